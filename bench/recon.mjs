// Reconciliation engine benchmark: `node bench/recon.mjs` (needs `pnpm build`). Docs: docs/BENCHMARKS.md
// "Reconciliation engine" and docs/RECON.md.
//
// Generates a labelled data set (bench/recon.mjs owns no data: the same generator as the accuracy
// gate), keeps the first N ledger entries of it, and times `reconcile()` on all bank lines against
// them, in this process, several runs in a row. Prints per run the wall time and the rate per
// 1,000 bank lines, then the median, the process's memory, and the accuracy on the set. The
// machine's load average is printed first: other processes (tests, builds) slow the runs.
// Run with `node --expose-gc bench/recon.mjs` to also print the heap the outcomes keep after a
// full collection (without it, "heap used" includes garbage not yet collected).
//
// Options (defaults in brackets):
//   --transactions N   bank lines [50000]
//   --entries N        ledger entries kept [50000]
//   --seed N           seed of the data set [7]
//   --runs N           timed runs [3]

import os from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_RECON_RULES,
  generateLabelledDataset,
  measureReconAccuracy,
  reconcile,
} from '../packages/service-core-accounting/dist/index.js';

const { values: flags } = parseArgs({
  options: {
    transactions: { type: 'string' },
    entries: { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  const here = fileURLToPath(import.meta.url);
  process.stdout.write(readFileSync(here, 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '') + '\n');
  process.exit(0);
}

function intOption(name, fallback, min) {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`bench/recon: --${name} must be an integer >= ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

const transactions = intOption('transactions', 50_000, 1);
const entryCount = intOption('entries', 50_000, 1);
const seed = intOption('seed', 7, 0);
const runs = intOption('runs', 3, 1);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

process.stdout.write(
  `node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}\n`,
);
const generated = performance.now();
const dataset = generateLabelledDataset({ seed, transactions });
const entries = dataset.entries.slice(0, entryCount);
process.stdout.write(
  `data set: seed ${seed}, ${dataset.transactions.length} bank lines, ${entries.length} ledger entries ` +
    `(generated in ${Math.round(performance.now() - generated)} ms), rules ${DEFAULT_RECON_RULES.version}\n`,
);
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;

const times = [];
let outcomes = [];
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  outcomes = reconcile({ transactions: dataset.transactions, entries });
  const elapsed = performance.now() - started;
  times.push(elapsed);
  const perThousand = (elapsed / dataset.transactions.length) * 1000;
  process.stdout.write(`run ${run}: ${(elapsed / 1000).toFixed(2)} s, ${perThousand.toFixed(1)} ms per 1,000 bank lines\n`);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const heapAfterRuns = process.memoryUsage().heapUsed;
globalThis.gc?.();
const memory = process.memoryUsage();
const kept = globalThis.gc ? `, ${mib(memory.heapUsed - heapBefore)} kept by the outcomes after a full GC` : '';
process.stdout.write(
  `median: ${(median / 1000).toFixed(2)} s (${((median / dataset.transactions.length) * 1000).toFixed(1)} ms per 1,000 bank lines, ` +
    `${Math.round(dataset.transactions.length / (median / 1000)).toLocaleString('en-US')} lines/s)\n` +
    `memory: peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}, heap used after the runs ${mib(heapAfterRuns)} ` +
    `(${mib(heapAfterRuns - heapBefore)} above the data set${kept})\n`,
);

const entriesById = new Map(entries.map((entry) => [entry.id, entry]));
const truth = new Map([...dataset.truth].map(([id, entryId]) => [id, entryId !== null && entriesById.has(entryId) ? entryId : null]));
const accuracy = measureReconAccuracy(dataset.transactions, entriesById, truth, outcomes, DEFAULT_RECON_RULES);
const counts = Object.entries(accuracy.confusion)
  .map(([status, row]) => `${status} ${row.trueEntry + row.otherEntry + row.noTrueEntry}`)
  .join(', ');
process.stdout.write(
  `accuracy: precision ${(accuracy.precision * 100).toFixed(2)}%, recall ${(accuracy.recall * 100).toFixed(2)}% ` +
    `of auto-matchable pairs (${counts})\n`,
);
