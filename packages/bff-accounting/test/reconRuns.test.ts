import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedgerEntries, seedExternalSource, upsertLedgerTransactions } from '@accounting/data-pg';
import { ReconEngine, generateLabelledDataset, type EngineSession, type ReconRules } from '@accounting/service-core-accounting';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { importedEntry, storedBankLine } from '../../../test/support/reconData.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
let schema: TestSchema;
let t: TestApp;

/** What happened, in order, while the engine thread decided a run. */
const events: string[] = [];

/** The real engine, telling when its thread starts and ends deciding a run, and asking the app for /health meanwhile. */
class WatchedEngine extends ReconEngine {
  override session<T>(rules: ReconRules, fn: (session: EngineSession) => Promise<T>): Promise<T> {
    return super.session(rules, (job) =>
      fn({
        ...job,
        reconcile: async () => {
          const deciding = job.reconcile();
          events.push('engine deciding');
          const health = request(t.app)
            .get('/health')
            .then((res) => events.push(`health answered ${res.status}`));
          const counts = await deciding;
          events.push('engine decided');
          await health;
          return counts;
        },
      }),
    );
  }
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_runs_loop');
  t = await buildTestApp(schema.db, {}, { reconEngine: new WatchedEngine() });

  const data = generateLabelledDataset({ seed: 21, transactions: 20_000 });
  await seedExternalSource(schema.db, 'default', { source: 'bank_sbx', kind: 'bank_sbx', connectionId: 'conn', enabled: true });
  const lines = data.transactions.map(storedBankLine);
  const entries = data.entries.slice(0, 20_000).map(importedEntry);
  for (let i = 0; i < lines.length; i += 5_000) await upsertLedgerTransactions(schema.db, { tenant: 'default', source: 'bank_sbx', seenMarker: '1' }, lines.slice(i, i + 5_000));
  for (let i = 0; i < entries.length; i += 5_000) await importLedgerEntries(schema.db, 'default', entries.slice(i, i + 5_000));
}, 120_000);
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('reconciliation off the event loop', () => {
  it('keeps answering /health while the engine thread decides a 20,000 x 20,000 run', async () => {
    const accepted = await request(t.app).post('/v1/accounting/recon/run').set(operator).send({});
    expect(accepted.status).toBe(202);
    const run = await t.reconRuns.waitFor('default', accepted.body.run_id, 200);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', summary: { transactions: 20_000, entries: 20_000, written: 20_000 } });
    // Had the engine run on the event loop, /health could only answer after it decided.
    expect(events).toEqual(['engine deciding', 'health answered 200', 'engine decided']);
  }, 120_000);
});
