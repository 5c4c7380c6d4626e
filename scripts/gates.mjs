#!/usr/bin/env node
// The deploy checklist's gates (pilot operations guide, section 6), each a named set of test
// files, so CI runs them as named jobs and a red gate says which promise broke:
//
//   node scripts/gates.mjs <gate>     run one gate's tests (vitest; needs `pnpm build` and PostgreSQL)
//   node scripts/gates.mjs --list     print the gates and their files
//
// `pnpm test` runs every test, these included; the gates only name what the checklist names.
// no-artifacts is a check on the tracked files, not a test set: scripts/check_no_artifacts.sh.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Gate name (as in the checklist) -> what it proves and the test files that prove it. */
export const GATES = {
  'gate-os-integration': {
    proves: 'tenant/role gating on every API route, the bank adapter and sync worker against the simulator, os/sources and external_sync_* metrics',
    files: [
      'packages/bff-accounting/test/osPolicyBridge.test.ts',
      'packages/bff-accounting/test/permissions.test.ts',
      'packages/bff-accounting/test/verifyPilotGating.test.ts',
      'packages/bff-accounting/test/sources.test.ts',
      'packages/bff-accounting/test/worker.test.ts',
      'packages/bff-accounting/test/embedded.test.ts',
      'packages/service-core-accounting/test/BankSandboxAdapter.test.ts',
      'packages/service-core-accounting/test/syncExternalSource.test.ts',
      'packages/bank-sandbox-sim/test/contract.test.ts',
    ],
  },
  gate_mobile: {
    proves: 'the HUD client: offline queue, replay without duplicates, dead letters, against a real BFF',
    files: [
      'packages/hud-client/test/gate_mobile.test.ts',
      'packages/hud-client/test/offlineQueue.test.ts',
      'packages/hud-client/test/storage.test.ts',
      'packages/hud-client/test/hudClient.test.ts',
    ],
  },
  'accuracy-data': {
    proves: 'reconciliation precision/recall on the labelled set, ledger and external-ledger data exactness, signed exports',
    files: [
      'packages/service-core-accounting/test/reconAccuracy.test.ts',
      'packages/service-core-accounting/test/recon.test.ts',
      'packages/bff-accounting/test/recon.test.ts',
      'packages/data-pg/test/externalLedger.test.ts',
      'packages/bff-accounting/test/exports.test.ts',
      'packages/service-core-accounting/test/exportSigning.test.ts',
      'packages/bff-accounting/test/auditList.test.ts',
    ],
  },
  persistence: {
    proves: 'migrations (PostgreSQL and PGlite), readiness, idempotent writes, graceful shutdown without loss',
    files: [
      'packages/data-pg/test/db.test.ts',
      'packages/data-pg/test/migrate.test.ts',
      'packages/bff-accounting/test/migrate.test.ts',
      'packages/bff-accounting/test/ready.test.ts',
      'packages/bff-accounting/test/manualReview.test.ts',
      'packages/bff-accounting/test/shutdown.test.ts',
    ],
  },
};

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function main(argv) {
  const [name] = argv;
  if (name === '--list') {
    for (const [gate, { proves, files }] of Object.entries(GATES)) {
      process.stdout.write(`${gate}: ${proves}\n${files.map((file) => `  ${file}\n`).join('')}`);
    }
    return 0;
  }
  const gate = name === undefined ? undefined : GATES[name];
  if (!gate) {
    process.stderr.write(`usage: node scripts/gates.mjs <${Object.keys(GATES).join('|')}> | --list\n`);
    return 2;
  }
  const missing = gate.files.filter((file) => !existsSync(`${ROOT}${file}`));
  if (missing.length > 0) {
    process.stderr.write(`gate ${name}: missing test files: ${missing.join(', ')}\n`);
    return 1;
  }
  process.stdout.write(`gate ${name}: ${gate.proves}\n`);
  const vitest = `${ROOT}node_modules/vitest/vitest.mjs`;
  const run = spawnSync(process.execPath, [vitest, 'run', ...gate.files], { cwd: ROOT, stdio: 'inherit' });
  return run.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
