#!/usr/bin/env node
// Verifies a signed audit export offline, for its tenant, with the same code the BFF signs with (docs/EXPORTS.md).
// Run from the repository root after install and build: `node scripts/verify_export_signature.mjs --help`.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import {
  createExportKeyring,
  parseExportSignature,
  verifyExportSignature,
  verifyLegacyExportSignature,
} from '../packages/service-core-accounting/dist/index.js';

const USAGE = `usage: node scripts/verify_export_signature.mjs --tenant <tenant> <file> <signature>
       node scripts/verify_export_signature.mjs --legacy-shared-key <file> <signature>

Checks that <file> (- for stdin) holds exactly the bytes of an audit export the BFF signed for
<tenant> (the X-Tenant it was exported with; each tenant has its own key, derived from the secret).
<signature> is the export's X-Export-Signature: kid=<16 hex>,v1=<64 hex> (the response trailer,
or "signature" from GET /v1/accounting/exports/{export_id}/signature).

options:
  --tenant <tenant>     the tenant the export belongs to (required, unless --legacy-shared-key)
  --legacy-shared-key   check a signature made before per-tenant keys (keyed with the secret
                        itself); it proves the deployment signed the file, not for which tenant
  -h, --help            this text

environment: EXPORT_SIGN_SECRET (required) and EXPORT_SIGN_SECRET_PREV (optional), at least
  32 bytes each: the secrets the BFF runs with; either one may have signed the export
output: one line, "valid: ..." or "invalid: ...", naming the key and the file's SHA-256
exit codes: 0 valid; 1 invalid; 2 bad usage, a bad secret or an unreadable file`;

const fail = (message) => {
  process.stderr.write(`verify_export_signature: ${message}\n`);
  return 2;
};

async function sha256OfFile(path) {
  const hash = createHash('sha256');
  await pipeline(path === '-' ? process.stdin : createReadStream(path), hash);
  return hash.digest();
}

async function main(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        tenant: { type: 'string' },
        'legacy-shared-key': { type: 'boolean' },
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
  if (parsed.positionals.length !== 2) return fail(`expected <file> and <signature>\n${USAGE}`);
  const { tenant, 'legacy-shared-key': legacy } = parsed.values;
  if (legacy && tenant !== undefined) return fail('--legacy-shared-key names no tenant: drop --tenant');
  if (!legacy && !tenant) return fail(`--tenant <tenant> is required: each tenant's exports have their own key\n${USAGE}`);
  const [file, signature] = parsed.positionals;
  if (!parseExportSignature(signature)) return fail('the signature must look like kid=<16 hex>,v1=<64 hex>');

  const secrets = { secret: env.EXPORT_SIGN_SECRET || undefined, previousSecret: env.EXPORT_SIGN_SECRET_PREV || undefined };
  if (!secrets.secret) return fail('EXPORT_SIGN_SECRET must be set');
  for (const [name, value] of [['EXPORT_SIGN_SECRET', secrets.secret], ['EXPORT_SIGN_SECRET_PREV', secrets.previousSecret]]) {
    // Never print the value: it is the signing key.
    if (value !== undefined && Buffer.byteLength(value, 'utf8') < 32) return fail(`${name}: must be at least 32 bytes`);
  }

  let sha256;
  try {
    sha256 = await sha256OfFile(file);
  } catch (err) {
    return fail(`cannot read ${file}: ${err.code ?? err.message}`);
  }
  const keyring = createExportKeyring(secrets);
  const result = legacy
    ? verifyLegacyExportSignature(keyring, sha256, signature)
    : verifyExportSignature(keyring, tenant, sha256, signature);
  const digest = `sha256 ${sha256.toString('hex')}`;
  const scope = legacy ? 'the legacy shared key, no tenant' : `tenant ${tenant}`;
  if (result.valid) {
    process.stdout.write(`valid: signed with the ${result.key} key (kid ${result.kid}, ${scope}); ${digest}\n`);
    return 0;
  }
  const why =
    result.reason === 'unknown_key'
      ? `key ${result.kid} is neither EXPORT_SIGN_SECRET nor EXPORT_SIGN_SECRET_PREV`
      : `the signature does not match the file for ${scope} (kid ${result.kid})`;
  process.stdout.write(`invalid: ${why}; ${digest}\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2), process.env);
