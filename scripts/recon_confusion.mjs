#!/usr/bin/env node
// Prints the reconciliation engine's confusion table on a labelled data set (docs/RECON.md).
// Run from the repository root after install and build: `node scripts/recon_confusion.mjs --help`.
import { parseArgs } from 'node:util';
import {
  DEFAULT_RECON_RULES,
  formatReconAccuracy,
  generateLabelledDataset,
  isAutoMatchable,
  measureReconAccuracy,
  reconcile,
} from '../packages/service-core-accounting/dist/index.js';

const USAGE = `usage: node scripts/recon_confusion.mjs [--seed N] [--transactions N] [--days N] [--by-noise]

Generates the labelled data set of the seed (bank lines, ledger entries, true pairs), runs the
engine with the default rules (${DEFAULT_RECON_RULES.version}) and prints the outcomes per status against the
truth, precision and recall of the auto-matches (definitions: docs/RECON.md "Accuracy").

  --seed N          seed of the data set [6, the accuracy gate's]
  --transactions N  bank lines [5000]
  --days N          days the ledger dates spread over [365]
  --by-noise        also count the auto-matchable true pairs left unmatched, by noise and rule
exit codes: 0 printed; 2 bad usage`;

const fail = (message) => {
  process.stderr.write(`recon_confusion: ${message}\n`);
  return 2;
};

function positiveInteger(text, fallback) {
  if (text === undefined) return fallback;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        transactions: { type: 'string' },
        days: { type: 'string' },
        'by-noise': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    return fail(`${err.message}\n${USAGE}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = parsed.values.seed === undefined ? 6 : Number(parsed.values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) return fail('--seed must be a non-negative integer');
  const transactions = positiveInteger(parsed.values.transactions, 5000);
  if (transactions === null) return fail('--transactions must be a positive integer');
  const days = positiveInteger(parsed.values.days, 365);
  if (days === null) return fail('--days must be a positive integer');

  const dataset = generateLabelledDataset({ seed, transactions, days });
  const started = performance.now();
  const outcomes = reconcile({ transactions: dataset.transactions, entries: dataset.entries });
  const elapsed = performance.now() - started;
  const entriesById = new Map(dataset.entries.map((entry) => [entry.id, entry]));
  const accuracy = measureReconAccuracy(dataset.transactions, entriesById, dataset.truth, outcomes, DEFAULT_RECON_RULES);

  process.stdout.write(`seed ${seed}: ${transactions} bank lines, ${dataset.entries.length} ledger entries, rules ${DEFAULT_RECON_RULES.version}\n\n`);
  process.stdout.write(`${formatReconAccuracy(accuracy)}\n`);
  process.stdout.write(`engine time: ${Math.round(elapsed)} ms\n`);

  if (parsed.values['by-noise']) {
    const misses = new Map();
    outcomes.forEach((outcome, i) => {
      const tx = dataset.transactions[i];
      const trueEntry = dataset.truth.get(tx.id);
      if (!trueEntry || !isAutoMatchable(tx, entriesById.get(trueEntry), DEFAULT_RECON_RULES)) return;
      if (outcome.status === 'matched' && outcome.entryId === trueEntry) return;
      for (const tag of dataset.tags.get(tx.id).filter((tag) => !tag.startsWith('date_shift_'))) {
        const key = `${tag} / ${outcome.rule}`;
        misses.set(key, (misses.get(key) ?? 0) + 1);
      }
    });
    process.stdout.write('\nauto-matchable true pairs not matched, by noise / rule (a pair may carry several noises):\n');
    for (const [key, count] of [...misses].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      process.stdout.write(`${String(count).padStart(6)}  ${key}\n`);
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
