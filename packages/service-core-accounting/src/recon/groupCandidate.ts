import { calendarOf } from './businessDays.js';
import type { PreparedTransaction } from './candidateIndex.js';
import type { GroupFinding } from './groups.js';
import { absMoney, formatMoney } from './money.js';
import type { Criterion, ReconCandidate, ReconRules } from './types.js';

/** Confidence of a group whose parts add up one way only, and of one where several combinations do. */
const GROUP_CONFIDENCE = { unambiguous: 0.75, ambiguous: 0.6 };

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The candidate of a batch (`entryIds`) or split (`transactionIds`), with its five criteria. */
export function groupCandidate(tx: PreparedTransaction, group: GroupFinding, rules: ReconRules): ReconCandidate {
  const money = (value: Parameters<typeof formatMoney>[0]): string => formatMoney(absMoney(value), tx.currency);
  const [first] = group.entries;
  if (!first) throw new Error(`group of transaction ${tx.id} has no entry`);
  const latest = group.entries.reduce((a, b) => (b.day > a.day ? b : a));
  const shift = calendarOf(rules.holidays[tx.currency]).shift(latest.day, tx.day);
  const within = Math.abs(shift) <= rules.dateWindowDays;
  const others = group.transactionIds.filter((id) => id !== tx.id);
  const amountDetail =
    group.kind === 'batch'
      ? `${plural(group.entries.length, 'entry')} add up to the line's ${money(tx.money)} (${group.entries.map((entry) => money(entry.money)).join(' + ')})`
      : `this line's ${money(tx.money)} and ${plural(others.length, 'other line')} (${others.join(', ')}) add up to the entry's ${money(first.money)}`;
  const ambiguity = group.combinations > 1 ? '; another combination adds up too' : '';
  const criteria: Criterion[] = [
    { name: 'amount', score: 1, detail: `${amountDetail}${ambiguity}` },
    { name: 'currency', score: 1, detail: `same currency (${tx.currency})` },
    {
      name: 'date',
      score: within ? 1 : 0.5,
      detail: `${group.kind === 'batch' ? 'latest entry' : 'entry'} ${shift >= 0 ? '+' : '-'}${plural(Math.abs(shift), 'business day')} ${within ? 'within' : 'outside'} the ${rules.dateWindowDays}-business-day window`,
    },
    { name: 'reference', score: 0, detail: 'not compared for a group' },
    { name: 'text', score: 1, detail: `every part is identified with the line by name or reference` },
  ];
  return {
    entryId: first.id,
    ...(group.kind === 'batch' ? { entryIds: group.entries.map((entry) => entry.id).sort() } : { transactionIds: others }),
    confidence: group.combinations > 1 ? GROUP_CONFIDENCE.ambiguous : GROUP_CONFIDENCE.unambiguous,
    tier: 'group',
    criteria,
    taken: false,
  };
}
