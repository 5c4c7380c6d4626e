// Command-line options shared by the benchmarks: a flag, else an environment variable, else
// the default; a bad value stops the run with one line naming the flag.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * Parses `spec` ({name: {env, default, kind: 'int' | 'number' | 'string' | 'list' | 'boolean', min}}).
 * `--help` prints the leading comment block of `file` and exits.
 */
export function readOptions(spec, file) {
  const { values } = parseArgs({
    options: Object.fromEntries([
      ['help', { type: 'boolean' }],
      ...Object.entries(spec).map(([name, s]) => [name, { type: s.kind === 'boolean' ? 'boolean' : 'string' }]),
    ]),
  });
  if (values.help) {
    process.stdout.write(`${readFileSync(file, 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '')}\n`);
    process.exit(0);
  }
  const out = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = values[name] ?? (s.env ? process.env[s.env] : undefined);
    if (raw === undefined || raw === '') {
      out[name] = s.default;
      continue;
    }
    if (s.kind === 'boolean') {
      out[name] = raw === true || raw === 'true' || raw === '1';
    } else if (s.kind === 'int' || s.kind === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value) || (s.kind === 'int' && !Number.isInteger(value)) || value < (s.min ?? 0)) {
        fail(`--${name}${s.env ? ` / ${s.env}` : ''} must be ${s.kind === 'int' ? 'an integer' : 'a number'} >= ${s.min ?? 0}, got "${raw}"`);
      }
      out[name] = value;
    } else if (s.kind === 'list') {
      out[name] = String(raw).split(',').map((item) => item.trim()).filter(Boolean);
    } else {
      out[name] = String(raw);
    }
  }
  return out;
}

export function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/** Progress on stderr, so stdout stays the results. */
export const log = (message) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** A Markdown table from a header row and rows of cells. */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.map((cell) => String(cell ?? '')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `1234567` -> `1,234,567`. */
export const thousands = (n) => (n === null || n === undefined ? '' : Number(n).toLocaleString('en-US'));

/** Milliseconds with a precision that suits their size. */
export function ms(value) {
  if (value === null || value === undefined) return '–';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
