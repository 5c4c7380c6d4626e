#!/usr/bin/env node
// Verifies the audit chain of an NDJSON audit export offline, with the chain key (docs/POLICY.md "Audit trail integrity").
// Run from the repository root after install and build: `node scripts/verify_audit_chain.mjs --help`.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { AuditChainWalker, createAuditChainKeyring } from '../packages/data-pg/dist/index.js';

const USAGE = `usage: node scripts/verify_audit_chain.mjs --tenant <tenant> [options] <file.ndjson>

Checks the tenant's audit chain in an NDJSON audit export (GET /v1/accounting/exports/audit,
format=ndjson; - for stdin) and names the first broken link: the place (seq) and row id, and why:
gap (a place has no row: deleted), order (a row does not follow the row before it: moved, replaced
or inserted), mac_mismatch (edited), unknown_key (chained with a key not given), unchained (a row
without chain columns).

options:
  --tenant <tenant>    the tenant the export belongs to (required)
  --partial            the export is a time range (from/to): verify from its first row on
                       instead of from place 1
  --expect-seq <n>     a chain head saved earlier (log line, feedback webhook, export receipt):
  --expect-mac <hex>   also say whether the export's chain holds it
  -h, --help           this text

environment: AUDIT_CHAIN_KEY (required) and AUDIT_CHAIN_KEY_PREV (optional), at least 32 bytes
  each: the keys the BFF runs with
output: one line, "valid: ..." or "invalid: ...", then "expected head: ..." when one was given
exit codes: 0 valid (and, with --expect-*, the head is held); 1 invalid, or the expected head is
  not held; 2 bad usage, a bad key, or a file that is not an NDJSON export of the tenant`;

const fail = (message) => {
  process.stderr.write(`verify_audit_chain: ${message}\n`);
  return 2;
};

/**
 * One export line as the chain's row. `details` is taken verbatim (the jsonb text the MAC covers):
 * the line is the JSON of the other fields with `"details":<text>` appended before the closing brace.
 */
function rowOf(line) {
  const { details, ...rest } = JSON.parse(line);
  const head = `${JSON.stringify(rest).slice(0, -1)},"details":`;
  if (details === undefined || !line.startsWith(head) || !line.endsWith('}')) throw new Error('not a line of an NDJSON audit export');
  const chain = rest.chain ?? {};
  return {
    tenant: rest.tenant,
    seq: chain.seq ?? null,
    id: rest.id,
    ts: rest.ts,
    actor_role: rest.actor?.role,
    actor_id: rest.actor?.id ?? null,
    action: rest.action,
    subject_type: rest.subject_type,
    subject_id: rest.subject_id,
    summary: rest.summary,
    details: line.slice(head.length, -1),
    request_id: rest.request_id,
    key_id: chain.key_id ?? null,
    prev_mac: chain.prev_mac ?? null,
    mac: chain.mac ?? null,
  };
}

async function main(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        tenant: { type: 'string' },
        partial: { type: 'boolean' },
        'expect-seq': { type: 'string' },
        'expect-mac': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail(`${err.message}\n${USAGE}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { tenant, partial, 'expect-seq': expectSeq, 'expect-mac': expectMac } = parsed.values;
  if (!tenant) return fail(`--tenant <tenant> is required\n${USAGE}`);
  if (parsed.positionals.length !== 1) return fail(`expected one <file>\n${USAGE}`);
  if ((expectSeq === undefined) !== (expectMac === undefined)) return fail('give --expect-seq and --expect-mac together');
  if (expectSeq !== undefined && !/^[1-9]\d{0,18}$/.test(expectSeq)) return fail('--expect-seq must be a positive whole number');
  if (expectMac !== undefined && !/^[0-9a-f]{64}$/.test(expectMac)) return fail('--expect-mac must be 64 lowercase hex characters');

  const key = env.AUDIT_CHAIN_KEY || undefined;
  const previous = env.AUDIT_CHAIN_KEY_PREV || undefined;
  if (!key) return fail('AUDIT_CHAIN_KEY must be set');
  for (const [name, value] of [['AUDIT_CHAIN_KEY', key], ['AUDIT_CHAIN_KEY_PREV', previous]]) {
    // Never print the value: it is the chain key.
    if (value !== undefined && Buffer.byteLength(value, 'utf8') < 32) return fail(`${name}: must be at least 32 bytes`);
  }

  const [file] = parsed.positionals;
  const rows = [];
  const unchained = [];
  try {
    const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n += 1;
      if (line === '') continue;
      let row;
      try {
        row = rowOf(line);
      } catch (err) {
        return fail(`line ${n}: ${err.message}`);
      }
      if (row.tenant !== tenant) return fail(`line ${n} belongs to tenant ${row.tenant}, not ${tenant}`);
      (row.seq === null ? unchained : rows).push(row);
    }
  } catch (err) {
    return fail(`cannot read ${file}: ${err.code ?? err.message}`);
  }

  // An export is in time order; the chain is in place order.
  rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));
  const first = rows[0];
  const start = partial && first ? { seq: (BigInt(first.seq) - 1n).toString(), mac: first.prev_mac } : undefined;
  const expect = expectSeq !== undefined ? { seq: expectSeq, mac: expectMac } : undefined;
  const walker = new AuditChainWalker(createAuditChainKeyring(key, previous), expect, start);
  for (const row of rows) if (!walker.next(row)) break;
  if (!walker.broken && unchained[0]) walker.breakAt({ seq: null, id: unchained[0].id, reason: 'unchained' });

  const head = walker.head;
  const broken = walker.broken;
  if (broken) {
    const where = broken.seq === null ? `row ${broken.id}` : `seq ${broken.seq}${broken.id ? ` (row ${broken.id})` : ' (no row)'}`;
    process.stdout.write(`invalid: first broken link at ${where}: ${broken.reason}; ${walker.checked} rows checked\n`);
  } else {
    process.stdout.write(`valid: ${walker.checked} rows of tenant ${tenant}; head seq ${head.seq} mac ${head.mac ?? '-'}\n`);
  }
  if (expect) {
    process.stdout.write(`expected head seq ${expect.seq}: ${walker.containsExpected ? 'held' : 'NOT held'}\n`);
  }
  return broken || (expect && !walker.containsExpected) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2), process.env);
