import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimNextReconRun,
  createReconRun,
  failAbandonedReconRun,
  importLedgerEntries,
  lockReconciliation,
  requeueReconRun,
  markLedgerTransactionsRemoved,
  runMigrations,
  seedExternalSource,
  upsertLedgerTransactions,
  type LedgerEntry,
  type LedgerTransaction,
} from '@accounting/data-pg';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../../../test/support/postgres.js';
import { importedEntry, storedBankLine } from '../../../test/support/reconData.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';
import {
  DEFAULT_RECON_RULES,
  ReconEngine,
  ReconRunner,
  decideSuggestion,
  generateLabelledDataset,
  type EngineSession,
  type ReconRules,
  type ReconRunLog,
  type ReconRunView,
} from '../src/index.js';

// Incremental runs against a run from scratch on the same final data (docs/RECON.md "Runs").

const SOURCE = 'bank_sbx';
let schema: TestSchema;
let runner: ReconRunner;

async function load(tenant: string, lines: readonly LedgerTransaction[], entries: readonly LedgerEntry[]): Promise<void> {
  if (lines.length > 0) await upsertLedgerTransactions(schema.db, { tenant, source: SOURCE, seenMarker: '1' }, lines);
  if (entries.length > 0) await importLedgerEntries(schema.db, tenant, entries);
}

async function run(tenant: string): Promise<ReconRunView> {
  const queued = await runner.submit({ tenant, requestedBy: 'test' });
  const done = await runner.waitFor(tenant, queued.run_id, 20);
  expect(done.error).toBeNull();
  return done;
}

/** Every live line's stored suggestion, as a run left it. */
async function storedSuggestions(tenant: string) {
  const { rows } = await schema.db.query(
    `SELECT s.source, s.external_id, s.status, s.entry_id, s.confidence::text AS confidence, s.rule, s.rationale, s.criteria,
            s.candidates, s.rules_version, s.scored_entry_ids, s.claimable_entry_ids, s.decision, s.alias_key
     FROM recon_suggestions s
     JOIN external_ledger l ON l.tenant = s.tenant AND l.source = s.source AND l.external_id = s.external_id
     WHERE s.tenant = $1 AND l.removed_at IS NULL
     ORDER BY s.source, s.external_id`,
    [tenant],
  );
  return rows;
}

async function liveLines(tenant: string): Promise<number> {
  const { rows } = await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM external_ledger WHERE tenant = $1 AND removed_at IS NULL`, [tenant]);
  return rows[0]?.n ?? 0;
}

let scratches = 0;

/**
 * Copies the tenant's data as it stands (bank lines, entries, confirmed pairs and their holds, declined pairs, learned aliases)
 * to a new tenant and reconciles it from scratch: one full run.
 */
async function fromScratch(tenant: string): Promise<{ tenant: string; run: ReconRunView }> {
  const copy = `scratch_${++scratches}`;
  await seedExternalSource(schema.db, copy, { source: SOURCE, kind: 'bank_sbx', connectionId: `conn_${copy}`, enabled: true });
  await schema.db.query(
    `INSERT INTO external_ledger (tenant, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference, removed_at)
     SELECT $2, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference, removed_at
     FROM external_ledger WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO ledger_entries (tenant, entry_id, amount, currency, entry_date, memo, reference, counterparty)
     SELECT $2, entry_id, amount, currency, entry_date, memo, reference, counterparty FROM ledger_entries WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_suggestions (tenant, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates,
                                    rules_version, scored_entry_ids, claimable_entry_ids, decision, decided_at, decided_by, alias_key)
     SELECT $2, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates,
            rules_version, scored_entry_ids, claimable_entry_ids, decision, decided_at, decided_by, alias_key
     FROM recon_suggestions WHERE tenant = $1 AND decision = 'confirm'`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_entry_holds (tenant, entry_id, match_key) SELECT $2, entry_id, match_key FROM recon_entry_holds WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_matched_entries (tenant, entry_id, match_key, source, external_id, suggestion_id)
     SELECT $2, m.entry_id, m.match_key, m.source, m.external_id, s.id
     FROM recon_matched_entries m JOIN recon_suggestions s ON s.tenant = $2 AND s.source = m.source AND s.external_id = m.external_id
     WHERE m.tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_declined_pairs (tenant, source, external_id, entry_id) SELECT $2, source, external_id, entry_id FROM recon_declined_pairs WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_counterparty_aliases (tenant, bank_name, ledger_name, suggestion_id, source, external_id, entry_id, created_by)
     SELECT $2, bank_name, ledger_name, suggestion_id, source, external_id, entry_id, created_by FROM recon_counterparty_aliases WHERE tenant = $1`,
    [tenant, copy],
  );
  return { tenant: copy, run: await run(copy) };
}

/** After an incremental run: every live line's suggestion is what a run from scratch gives. */
async function expectSameAsFromScratch(tenant: string): Promise<void> {
  const scratch = await fromScratch(tenant);
  expect(scratch.run.mode).toBe('full');
  const incremental = await storedSuggestions(tenant);
  expect(incremental).toHaveLength(await liveLines(tenant));
  expect(incremental).toEqual(await storedSuggestions(scratch.tenant));
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_runs');
  await runMigrations(schema.db);
  await seedExternalSource(schema.db, 'inc', { source: SOURCE, kind: 'bank_sbx', connectionId: 'conn_inc', enabled: true });
  runner = new ReconRunner({ db: schema.db, rulesFor: () => DEFAULT_RECON_RULES });
});
afterAll(async () => {
  await runner?.stop();
  await schema?.drop();
});

describe('incremental reconciliation runs', () => {
  it('after each change (decisions, bank corrections, removals, re-dated entries, new months) leave every suggestion as a run from scratch does, reading only what changed', async () => {
    const data = generateLabelledDataset({ seed: 11, transactions: 2_000, startDate: '2026-01-01', days: 365 });
    const lines = data.transactions.map(storedBankLine);
    const entries = data.entries.map(importedEntry);
    const until = (date: string) => ({
      lines: lines.filter((line) => line.bookedDate < date),
      entries: entries.filter((entry) => entry.date < date),
    });
    const between = (from: string, to: string) => ({
      lines: lines.filter((line) => line.bookedDate >= from && line.bookedDate < to),
      entries: entries.filter((entry) => entry.date >= from && entry.date < to),
    });

    // Half a year: the first run decides every line.
    const first = until('2026-07-01');
    await load('inc', first.lines, first.entries);
    const runs = [await run('inc')];
    const pick = async (where: string) =>
      (
        await schema.db.query<{ id: string; external_id: string }>(
          `SELECT s.id::text AS id, s.external_id FROM recon_suggestions s
           WHERE s.tenant = 'inc' AND s.decision IS NULL AND ${where} ORDER BY s.external_id LIMIT 8`,
        )
      ).rows;
    // Lines that met another line on an entry: what only the closure of an incremental run reaches.
    const sharing = `EXISTS (SELECT 1 FROM recon_suggestions o WHERE o.tenant = s.tenant AND o.external_id <> s.external_id
                               AND o.scored_entry_ids && s.scored_entry_ids)`;

    // A person confirms and declines.
    const actor = { tenant: 'inc', role: 'operator', userId: 'ops.lee' };
    const confirmed = await pick(`s.status = 'matched' AND ${sharing}`);
    const declined = await pick(`s.rule IN ('contested', 'tie') AND ${sharing}`);
    for (const { id } of confirmed) await schema.db.transaction((tx) => decideSuggestion(tx, actor, id, { decision: 'confirm' }));
    for (const { id } of declined) await schema.db.transaction((tx) => decideSuggestion(tx, actor, id, { decision: 'decline' }));
    // The confirms learned aliases (the copies from scratch get them too).
    const { rows: learned } = await schema.db.query(`SELECT 1 FROM recon_counterparty_aliases WHERE tenant = 'inc'`);
    expect(learned.length).toBeGreaterThan(0);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // The bank corrects some lines (nothing else changes)...
    const byId = new Map(lines.map((line) => [line.externalId, line]));
    const correctedIds = (await pick(`s.rule IN ('contested', 'blocked_entry_taken', 'auto_match') AND ${sharing}`)).map((row) => row.external_id);
    const corrected = correctedIds.map((id, i) => {
      const line = byId.get(id) as LedgerTransaction;
      return i % 2 === 0 ? { ...line, amount: (Number(line.amount) * 2).toFixed(2) } : { ...line, description: 'CARD 9999 SOMETHING ELSE', reference: null };
    });
    // Lines showing a candidate another line matched, which they could never claim: deciding one
    // again needs the line that matched it.
    const besideMatches = (
      await pick(`EXISTS (SELECT 1 FROM recon_suggestions o WHERE o.tenant = s.tenant AND o.external_id <> s.external_id AND o.status = 'matched'
                          AND s.candidates @> jsonb_build_array(jsonb_build_object('entryId', o.entry_id, 'taken', true))
                          AND NOT o.entry_id = ANY(s.claimable_entry_ids))`)
    ).map((row) => row.external_id);
    corrected.push(...besideMatches.map((id) => ({ ...(byId.get(id) as LedgerTransaction), description: `${byId.get(id)?.description} 2` })));
    await load('inc', corrected, []);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');
    // ... and removes others.
    const removed = (await pick(`s.status = 'matched' AND ${sharing}`)).map((row) => row.external_id);
    await markLedgerTransactionsRemoved(schema.db, { tenant: 'inc', source: SOURCE }, removed);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // Some entries of March are re-dated, one is re-worded.
    const march = entries.filter((entry) => entry.date.startsWith('2026-03-'));
    const redated = march.slice(0, 10).map((entry) => ({ ...entry, date: nextDays(entry.date, 2) }));
    const reworded = [{ ...(march[20] as LedgerEntry), memo: 'something else entirely' }];
    await load('inc', [], [...redated, ...reworded]);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // Five more months, then the last one.
    const second = between('2026-07-01', '2026-12-01');
    await load('inc', second.lines, second.entries);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');
    const third = between('2026-12-01', '2027-12-31');
    await load('inc', third.lines, third.entries);
    runs.push(await run('inc'));
    runs.push(await run('inc'));

    expect([confirmed, declined, correctedIds, besideMatches, removed].map((picked) => picked.length)).toEqual([8, 8, 8, 8, 8]);
    expect(runs.map((r) => r.mode)).toEqual(['full', ...Array<string>(runs.length - 1).fill('incremental')]);
    const total = await liveLines('inc');
    // The last month's run decided the new lines and those near them, not the whole ledger.
    const last = runs.at(-2)?.summary?.transactions ?? 0;
    expect(last).toBeLessThan(total * 0.35);
    expect(last).toBeGreaterThanOrEqual(third.lines.length);
    expect(runs.at(-1)?.summary).toMatchObject({ transactions: 0, entries: 0, written: 0 });

    await expectSameAsFromScratch('inc');
    expect((await storedSuggestions('inc')).filter((row) => row.decision === 'confirm')).toHaveLength(confirmed.length);
  });
});

function nextDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The real engine, calling `onChunk` after it built each chunk a run writes and `onReconcile` after it decided. */
class HookedEngine extends ReconEngine {
  onChunk: (() => Promise<void> | void) | null = null;
  onReconcile: (() => Promise<void> | void) | null = null;

  override session<T>(rules: ReconRules, fn: (session: EngineSession) => Promise<T>): Promise<T> {
    return super.session(rules, (job) =>
      fn({
        ...job,
        reconcile: async () => {
          const counts = await job.reconcile();
          await this.onReconcile?.();
          return counts;
        },
        chunk: async (start, size) => {
          const json = await job.chunk(start, size);
          await this.onChunk?.();
          return json;
        },
      }),
    );
  }
}

/** A log that keeps what it was told. */
function recordingLog(): ReconRunLog & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push({ level, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Loads a small data set for `tenant`, runs it once, then changes the amount of `changed` matched lines. */
async function reconciledWithChanges(tenant: string, changed: number): Promise<string[]> {
  await seedExternalSource(schema.db, tenant, { source: SOURCE, kind: 'bank_sbx', connectionId: `conn_${tenant}`, enabled: true });
  const data = generateLabelledDataset({ seed: 5, transactions: 300, startDate: '2026-01-01', days: 90 });
  const lines = data.transactions.map(storedBankLine);
  await load(tenant, lines, data.entries.map(importedEntry));
  await run(tenant);
  const { rows } = await schema.db.query<{ external_id: string }>(
    `SELECT external_id FROM recon_suggestions WHERE tenant = $1 AND status = 'matched' ORDER BY external_id LIMIT $2`,
    [tenant, changed],
  );
  const ids = rows.map((row) => row.external_id);
  const byId = new Map(lines.map((line) => [line.externalId, line]));
  await load(tenant, ids.map((id) => { const line = byId.get(id) as LedgerTransaction; return { ...line, amount: (Number(line.amount) * 3).toFixed(2) }; }), []);
  return ids;
}

async function markedLines(tenant: string): Promise<string[]> {
  const { rows } = await schema.db.query<{ external_id: string }>(
    `SELECT external_id FROM recon_pending_lines WHERE tenant = $1 ORDER BY external_id`,
    [tenant],
  );
  return rows.map((row) => row.external_id);
}

/** Waits until some session is blocked by the session `pid`. */
async function blockedBy(pid: number): Promise<void> {
  for (;;) {
    const { rows } = await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, [pid]);
    if ((rows[0]?.n ?? 0) > 0) return;
    await sleep(10);
  }
}

describe('a run that loses its run', () => {
  it('when another replica fails it as ABANDONED during its writes, it consumes no marks, is not recorded as succeeded, and the next run decides the change', async () => {
    const changed = await reconciledWithChanges('abandoned', 3);
    const engine = new HookedEngine();
    const log = recordingLog();
    const lost = new ReconRunner({ db: schema.db, rulesFor: () => DEFAULT_RECON_RULES, engine, log });
    engine.onChunk = async () => {
      await schema.db.query(`UPDATE recon_runs SET heartbeat_at = now() - interval '10 minutes' WHERE tenant = 'abandoned' AND status = 'running'`);
      expect(await failAbandonedReconRun(schema.db, 'abandoned', 60_000)).toBe(true);
    };
    try {
      const queued = await lost.submit({ tenant: 'abandoned', requestedBy: 'test' });
      const done = await lost.waitFor('abandoned', queued.run_id, 20);
      expect(done).toMatchObject({ status: 'failed', mode: 'incremental', error: { code: 'ABANDONED' } });
    } finally {
      await lost.stop();
      await engine.stop();
    }
    expect(await markedLines('abandoned')).toEqual(changed);
    expect(log.lines.map((line) => line.message)).not.toContain('reconciliation run succeeded');

    expect((await run('abandoned')).summary?.transactions).toBeGreaterThanOrEqual(changed.length);
    expect(await markedLines('abandoned')).toEqual([]);
    await expectSameAsFromScratch('abandoned');
  });

  it('when its run goes back to the queue during its last write (its replica stopping), it consumes no marks, and another replica decides the change', async () => {
    const changed = await reconciledWithChanges('stopping', 3);
    const engine = new HookedEngine();
    const log = recordingLog();
    const stopping = new ReconRunner({ db: schema.db, rulesFor: () => DEFAULT_RECON_RULES, engine, log });
    engine.onChunk = async () => {
      // The stopping replica's requeue commits before anything else reaches the run.
      const { rows } = await schema.db.query<{ run_id: string; owner: string }>(
        `SELECT id::text AS run_id, owner FROM recon_runs WHERE tenant = 'stopping' AND status = 'running'`,
      );
      const running = rows[0] as { run_id: string; owner: string };
      expect(await requeueReconRun(schema.db, { tenant: 'stopping', runId: running.run_id, owner: running.owner })).toBe(true);
    };
    const queued = await stopping.submit({ tenant: 'stopping', requestedBy: 'test' });
    try {
      for (let tries = 0; !log.lines.some((line) => line.message.startsWith('reconciliation run stopped before its end')); tries++) {
        expect(log.lines.map((line) => line.message)).not.toContain('reconciliation run succeeded');
        expect(tries).toBeLessThan(1_000);
        await sleep(10);
      }
    } finally {
      await stopping.stop();
      await engine.stop();
    }
    expect(await schema.db.query(`SELECT status, owner FROM recon_runs WHERE tenant = 'stopping' AND id = $1::uuid`, [queued.run_id]).then((r) => r.rows)).toEqual([
      { status: 'queued', owner: null },
    ]);
    expect(await markedLines('stopping')).toEqual(changed);

    // Another replica: the same queued run, run to its end.
    const again = await runner.submit({ tenant: 'stopping', requestedBy: 'test' });
    expect(again.run_id).toBe(queued.run_id);
    expect(await runner.waitFor('stopping', queued.run_id, 20)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(await markedLines('stopping')).toEqual([]);
    await expectSameAsFromScratch('stopping');
  });

  it('keeps a decision a person makes while the run works (confirm and decline), and leaves the lines marked for the next run', async () => {
    await reconciledWithChanges('deciding', 0);
    const { rows: picked } = await schema.db.query<{ id: string; external_id: string }>(
      `SELECT id::text AS id, external_id FROM recon_suggestions
       WHERE tenant = 'deciding' AND status IN ('matched', 'suggested') ORDER BY status, external_id LIMIT 2`,
    );
    const [toConfirm, toDecline] = [picked[0], picked[1]] as { id: string; external_id: string }[] as [{ id: string; external_id: string }, { id: string; external_id: string }];
    const engine = new HookedEngine();
    const deciding = new ReconRunner({ db: schema.db, rulesFor: () => DEFAULT_RECON_RULES, engine });
    const actor = { tenant: 'deciding', role: 'operator', userId: 'ops.kim' };
    engine.onReconcile = async () => {
      // The run has read both lines; a person decides them before it writes.
      await schema.db.transaction((tx) => decideSuggestion(tx, actor, toConfirm.id, { decision: 'confirm' }));
      await schema.db.transaction((tx) => decideSuggestion(tx, actor, toDecline.id, { decision: 'decline' }));
    };
    try {
      const queued = await deciding.submit({ tenant: 'deciding', from: '2026-01-01', to: '2026-12-31', requestedBy: 'test' });
      const done = await deciding.waitFor('deciding', queued.run_id, 20);
      expect(done).toMatchObject({ status: 'succeeded', mode: 'range' });
      expect(done.summary?.transactions).toBe(300);
    } finally {
      await deciding.stop();
      await engine.stop();
    }
    const { rows } = await schema.db.query(
      `SELECT id::text AS id, decision, decided_by FROM recon_suggestions WHERE tenant = 'deciding' AND id = ANY($1::bigint[]) ORDER BY decision`,
      [[toConfirm.id, toDecline.id]],
    );
    expect(rows).toEqual([
      { id: toConfirm.id, decision: 'confirm', decided_by: 'ops.kim' },
      { id: toDecline.id, decision: 'decline', decided_by: 'ops.kim' },
    ]);
    expect(await markedLines('deciding')).toEqual([toConfirm.external_id, toDecline.external_id].sort());
  });
});

describe('the queue', () => {
  it('when another replica starts the oldest queued tenant first, a claim takes the next tenant’s run instead of answering none', async () => {
    const first = await createReconRun(schema.db, 'race_a', { from: null, to: null, requestedBy: 'test', requestId: null });
    const second = await createReconRun(schema.db, 'race_b', { from: null, to: null, requestedBy: 'test', requestId: null });
    const { claiming } = await schema.db.transaction(async (tx) => {
      // Another replica holds race_a's claim lock and starts a run of race_a.
      await lockReconciliation(tx, 'race_a');
      const { rows } = await tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
      const claiming = claimNextReconRun(schema.db, 'replica-1', 60_000);
      await blockedBy((rows[0] as { pid: number }).pid);
      await tx.query(
        `INSERT INTO recon_runs (tenant, status, owner, started_at, heartbeat_at, requested_by) VALUES ('race_a', 'running', 'replica-2', now(), now(), 'test')`,
      );
      return { claiming };
    });
    const claimed = await claiming;
    expect(claimed).toMatchObject({ tenant: 'race_b', run_id: second.run_id, status: 'running', owner: 'replica-1' });
    expect(await schema.db.query(`SELECT status FROM recon_runs WHERE tenant = 'race_a' AND id = $1::uuid`, [first.run_id]).then((r) => r.rows)).toEqual([
      { status: 'queued' },
    ]);
    await schema.db.query(`DELETE FROM recon_runs WHERE tenant IN ('race_a', 'race_b')`);
  });

  it('while the database is unreachable, says so once, and once again when it answers', async () => {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(proxy.port);
    const db = schema.connect({ connectionString: url.toString(), connectionTimeoutMillis: 1_000 });
    const log = recordingLog();
    const polling = new ReconRunner({ db, rulesFor: () => DEFAULT_RECON_RULES, log, pollMs: 10 });
    const said = (message: string) => log.lines.filter((line) => line.message === message).map((line) => line.level);
    try {
      polling.start();
      await proxy.stop();
      while (said('reconciliation runs: could not read the queue').length === 0) await sleep(10);
      await sleep(500); // dozens of polls, all failing
      await proxy.start();
      await db.query('SELECT 1');
      await sleep(200); // more polls, all answered
    } finally {
      await polling.stop();
      await proxy.stop();
    }
    expect(said('reconciliation runs: could not read the queue')).toEqual(['warn']);
    expect(said('reconciliation runs: reading the queue again')).toEqual(['info']);
  });
});

describe('change marks', () => {
  it('are locked in day order by an import, so two imports covering the same days in other orders wait for each other instead of deadlocking', async () => {
    await seedExternalSource(schema.db, 'marks', { source: SOURCE, kind: 'bank_sbx', connectionId: 'conn_marks', enabled: true });
    const days = Array.from({ length: 40 }, (_, i) => nextDays('2026-02-01', i));
    const entry = (id: string, date: string): LedgerEntry => ({ entry_id: id, amount: '10.00', currency: 'EUR', date, memo: 'm', reference: null, counterparty: null });
    await importLedgerEntries(schema.db, 'marks', days.map((day) => entry(`a-${day}`, day)));
    // Another import holds the first day's mark; this import, newest day first, waits for it holding no other day.
    const importing = await schema.db.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM recon_pending_days WHERE tenant = 'marks' AND day = $1::date FOR UPDATE`, [days[0]]);
      const { rows } = await tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
      const importing = importLedgerEntries(schema.db, 'marks', [...days].reverse().map((day) => entry(`b-${day}`, day)));
      await blockedBy((rows[0] as { pid: number }).pid);
      const held: string[] = [];
      for (const day of days.slice(1)) {
        const free = await schema.db
          .transaction((probe) => probe.query(`SELECT 1 FROM recon_pending_days WHERE tenant = 'marks' AND day = $1::date FOR UPDATE NOWAIT`, [day]))
          .then(() => true, () => false);
        if (!free) held.push(day);
      }
      expect(held).toEqual([]);
      return { importing };
    });
    expect(await importing.importing).toMatchObject({ created: 40 });
  });
});
