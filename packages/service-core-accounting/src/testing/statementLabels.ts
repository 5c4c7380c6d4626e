import type { ReconBankTransaction, ReconLedgerEntry } from '../recon/types.js';
import type { BusinessCalendar } from './koreanHolidays.js';
import type { MerchantSpec } from './koreanNames.js';
import type { StatementLabel } from './koreanStatements.js';

// The drafts the Korean statement generator builds, and the honest labels of its bank lines.

/** Above this absolute amount (KRW) the default rules never auto-match. */
export const KRW_AUTO_MATCH_LIMIT = 5_000_000;
/** Business days either side of a bank line within which an equal amount competes for it. */
const COMPETITOR_WINDOW = 5;

export type PartyKind = 'supplier' | 'customer' | 'merchant' | 'institution' | 'landlord' | 'employee' | 'subscription' | 'weekly';

export interface Party {
  kind: PartyKind;
  /** The name the books use in memos: 한빛상사, 스타벅스, 김민수. */
  name: string;
  /** The registered name with its legal form: 주식회사 한빛상사, (주)한빛상사, 한빛상사(주). */
  legal: string;
  stem: string;
  business: string;
  /** Latin name as the company writes it: "HANBIT SANGSA", "GREEN TECH", "TAEHAN TRADING". */
  latin: string;
  latinStyle: 'rr' | 'mccune' | 'english';
  /** The owner, whose personal account sometimes pays for the company. */
  owner?: string;
  merchant?: MerchantSpec;
  /** Bank wordings of an institution or subscription. */
  bankNames?: readonly string[];
  purpose?: string;
  range?: readonly [number, number];
  fixedAmount?: number;
  dayOfMonth?: number;
}

export interface EntryDraft {
  entry: ReconLedgerEntry;
  day: number;
  amount: number;
  party: Party;
  ref: Reference | null;
}

export interface LineDraft {
  tx: ReconBankTransaction;
  day: number;
  amount: number;
  party: Party | null;
  truth: EntryDraft[];
  split?: LineDraft[];
  tags: string[];
  /** The counterparty is recognizable (in any script or form) on the bank line. */
  named: boolean;
  /** The bank line carries a reference of its true entry. */
  referenced: boolean;
  /** A reason a careful person would only suggest this line, whatever the competitors. */
  suggestOnly: boolean;
}

export interface Reference {
  prefix: 'INV' | 'PO';
  year: number;
  serial: number;
}

/**
 * The labels of `lines` (ids given) against `entries` (ids given, amounts numbers). An entry a
 * named or referenced line of the same amount clearly pays is no longer open: it competes for
 * no other line that names no one.
 */
export function labelLines(lines: readonly LineDraft[], entries: readonly EntryDraft[], calendar: BusinessCalendar): Map<string, StatementLabel> {
  const byAmount = new Map<number, EntryDraft[]>();
  for (const draft of entries) {
    const list = byAmount.get(draft.amount);
    if (list) list.push(draft);
    else byAmount.set(draft.amount, [draft]);
  }
  const settled = new Set<EntryDraft>();
  const settledByReference = new Set<EntryDraft>();
  for (const line of lines) {
    const only = line.truth.length === 1 && line.split === undefined ? line.truth[0]! : null;
    if (only && only.amount === line.amount && (line.named || line.referenced)) settled.add(only);
    if (only && only.amount === line.amount && line.referenced) settledByReference.add(only);
  }
  return new Map(lines.map((line) => [line.tx.id, labelOf(line, byAmount, settled, settledByReference, calendar)]));
}

/**
 * The honest label. 'auto' only when the amounts are exactly equal, the line is posted and
 * within the limit, and one entry is clearly the one: the counterparty recognizable on the
 * bank line or a matching reference or no other open entry (not clearly paid by a named or
 * referenced line) of that amount within ±5 business days, and no other entry of the same
 * counterparty and amount that the line could as well pay (dated from 4 business days before
 * to 1 after it, not paid by another line carrying its reference) unless a reference tells
 * them apart.
 * Otherwise 'suggest' when a true pair exists, 'blocked' when only policy stands in the way,
 * 'none' when nothing in the ledger is this line's.
 */
function labelOf(
  line: LineDraft,
  byAmount: ReadonlyMap<number, EntryDraft[]>,
  settled: ReadonlySet<EntryDraft>,
  settledByReference: ReadonlySet<EntryDraft>,
  calendar: BusinessCalendar,
): StatementLabel {
  const tags = [...new Set(line.tags)];
  const add = (tag: string): void => {
    if (!tags.includes(tag)) tags.push(tag);
  };
  if (Math.abs(line.amount) > KRW_AUTO_MATCH_LIMIT) add('over_limit');
  const entryIds = line.truth.map((draft) => draft.entry.id).sort();
  if (entryIds.length === 0) return { entryIds, expected: 'none', tags };
  const label: StatementLabel = { entryIds, expected: 'auto', tags };
  if (line.split) label.splitWith = line.split.map((member) => member.tx.id).sort();
  let suggest = line.suggestOnly || line.split !== undefined || entryIds.length > 1;
  const truth = line.truth[0]!;
  if (!suggest && truth.amount !== line.amount) suggest = true;
  if (!suggest) {
    const competitors = (byAmount.get(line.amount) ?? []).filter(
      (draft) => draft !== truth && Math.abs(calendar.lag(draft.day, line.day)) <= COMPETITOR_WINDOW,
    );
    const sameParty = competitors.filter((draft) => draft.party === truth.party);
    // An invoice another line paid with its reference is no longer a twin: the reference says which.
    const plausible = sameParty.filter((draft) => {
      const lag = calendar.lag(draft.day, line.day);
      return lag >= -1 && lag <= 4 && !settledByReference.has(draft);
    });
    if (plausible.length > 0 && !line.referenced) {
      add('tie');
      suggest = true;
    }
    if (competitors.some((draft) => draft.party !== truth.party)) add('decoy');
    if (!line.named && !line.referenced) {
      if (competitors.some((draft) => !settled.has(draft))) {
        add('ambiguous');
        suggest = true;
      } else add('amount_date_only');
    }
    const nearby = (byAmount.get(line.amount) ?? []).some((draft) => draft !== truth && draft.party === truth.party && Math.abs(draft.day - truth.day) <= 35 && !plausible.includes(draft));
    if (nearby) add('near_duplicate');
  }
  if (suggest) label.expected = 'suggest';
  else if (line.tx.status === 'pending' || Math.abs(line.amount) > KRW_AUTO_MATCH_LIMIT) label.expected = 'blocked';
  return label;
}
