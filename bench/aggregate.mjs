// Pools several runs of the harness: `node bench/aggregate.mjs bench/results/<a>.json ...`.
//
// On a noisy machine one run's medians move by 10-20 %; pooling the per-round ratios of
// several runs (each ratio paired with the baseline of its own file and round) gives a
// steadier picture. Runs flagged as disturbed by other processes are left out. Prints, per
// variant: the number of paired rounds, the median and interquartile range of the
// throughput ratio, and the median server CPU time per request next to the baseline's.

import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/aggregate.mjs <results.json> [...]\n');
  process.exit(2);
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
};
const cpuPerRequest = (run) => (run.serverCpuPercent / 100 / run.requestsPerSecond) * 1e6;

const pooled = new Map();
for (const file of files) {
  const result = JSON.parse(readFileSync(file, 'utf8'));
  const baseline = result.baseline;
  for (const run of result.runs) {
    const base = result.runs.find((r) => r.variant === baseline && r.round === run.round);
    if (!base || run.disturbed || base.disturbed) continue;
    const entry = pooled.get(run.variant) ?? { ratios: [], p99Ratios: [], cpu: [], baseCpu: [], files: new Set() };
    entry.ratios.push(run.requestsPerSecond / base.requestsPerSecond);
    entry.p99Ratios.push(run.latencyMs.p99 / base.latencyMs.p99);
    entry.cpu.push(cpuPerRequest(run));
    entry.baseCpu.push(cpuPerRequest(base));
    entry.files.add(file);
    pooled.set(run.variant, entry);
  }
}

const fixed = (value, digits) => (value === null ? '-' : value.toFixed(digits));
const lines = [
  `${'variant'.padEnd(72)} ${'runs'.padStart(4)} ${'rounds'.padStart(6)} ${'thr ratio'.padStart(9)} ${'IQR'.padStart(11)} ${'p99 ratio'.padStart(9)} ${'us cpu/req'.padStart(10)} ${'(base)'.padStart(7)}`,
];
for (const [variant, entry] of [...pooled].sort((a, b) => quantile(b[1].ratios, 0.5) - quantile(a[1].ratios, 0.5))) {
  lines.push(
    `${variant.padEnd(72)} ${String(entry.files.size).padStart(4)} ${String(entry.ratios.length).padStart(6)} ${fixed(quantile(entry.ratios, 0.5), 3).padStart(9)} ${`${fixed(quantile(entry.ratios, 0.25), 2)}-${fixed(quantile(entry.ratios, 0.75), 2)}`.padStart(11)} ${fixed(quantile(entry.p99Ratios, 0.5), 2).padStart(9)} ${fixed(quantile(entry.cpu, 0.5), 0).padStart(10)} ${fixed(quantile(entry.baseCpu, 0.5), 0).padStart(7)}`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
