// Prints the reconciliation engine's figures on labelled Korean SME statements
// (@accounting/service-core-accounting/testing): the confusion table of outcome against what a
// careful person would do, precision and recall, the per-tag breakdown and the misses.
// Run from the repository root after install and build:
//   node scripts/recon_statements.mjs --seeds 1,2,3,4 [--lines 2000] [--days 120]
// Seeds 1-4 are for tuning. Seeds 1001-1003 and 2001-2003 are held out (the gate runs on 2001-2003): they print only with
// --held-out, so nobody tunes on them by accident.
// exit codes: 0 printed; 2 bad usage

import { fail, readOptions } from '../bench/lib/options.mjs';
import { reconcile } from '../packages/service-core-accounting/dist/index.js';
import {
  formatStatementAccuracy,
  generateKoreanStatements,
  measureStatementAccuracy,
} from '../packages/service-core-accounting/dist/testing/index.js';

const HELD_OUT = new Set([1001, 1002, 1003, 2001, 2002, 2003]);

const options = readOptions(
  {
    seeds: { kind: 'list', default: ['1', '2', '3', '4'] },
    lines: { kind: 'int', default: 2000, min: 1 },
    days: { kind: 'int', default: 120, min: 1 },
    'held-out': { kind: 'boolean', default: false },
  },
  new URL(import.meta.url).pathname,
);
const seeds = options.seeds.map(Number);
if (seeds.some((seed) => !Number.isSafeInteger(seed) || seed < 0)) fail('--seeds must be non-negative integers, e.g. 1,2,3');
if (seeds.some((seed) => HELD_OUT.has(seed)) && !options['held-out']) fail('seeds 1001-1003 and 2001-2003 are held out; add --held-out to print them');

const pct = (value) => `${(100 * value).toFixed(2)}%`;
const summary = [];
for (const seed of seeds) {
  const dataset = generateKoreanStatements({ seed, bankLines: options.lines, days: options.days });
  const started = performance.now();
  const outcomes = reconcile({ transactions: dataset.transactions, entries: dataset.entries });
  const elapsed = performance.now() - started;
  const accuracy = measureStatementAccuracy(dataset, outcomes);
  process.stdout.write(`== seed ${seed}: ${dataset.transactions.length} bank lines, ${dataset.entries.length} ledger entries, engine ${Math.round(elapsed)} ms\n\n`);
  process.stdout.write(`${formatStatementAccuracy(accuracy)}\n`);

  // Lines a person would auto-match that the engine did not match right, by tag and rule.
  const misses = new Map();
  outcomes.forEach((outcome) => {
    const label = dataset.labels.get(outcome.transactionId);
    if (label.expected !== 'auto') return;
    if (outcome.status === 'matched' && outcome.entryId === label.entryIds[0]) return;
    const how = outcome.status === 'matched' ? 'matched wrong' : outcome.rule;
    for (const tag of label.tags) misses.set(`${tag} / ${how}`, (misses.get(`${tag} / ${how}`) ?? 0) + 1);
  });
  process.stdout.write('\nlines expected auto, not matched right, by tag / rule (a line carries several tags):\n');
  for (const [key, count] of [...misses].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 40)) {
    process.stdout.write(`${String(count).padStart(6)}  ${key}\n`);
  }
  process.stdout.write('\n');
  summary.push({ seed, accuracy });
}
if (summary.length > 1) {
  process.stdout.write('seed   precision   recall  suggestOnlyMatched  feeOrTieMatched  blockedMatched  topCandidateRate  untiedTopRate  tiesShown\n');
  for (const { seed, accuracy } of summary) {
    process.stdout.write(
      `${String(seed).padEnd(6)}${pct(accuracy.precision).padStart(10)}${pct(accuracy.recall).padStart(9)}` +
        `${String(accuracy.suggestOnlyMatched).padStart(20)}${String(accuracy.feeOrTieMatched).padStart(17)}${String(accuracy.blockedMatched).padStart(16)}${pct(accuracy.topCandidateRate).padStart(18)}${pct(accuracy.untiedTopRate).padStart(15)}${`${accuracy.tiesTruthShown}/${accuracy.tiesSuggested}`.padStart(11)}\n`,
    );
  }
}
