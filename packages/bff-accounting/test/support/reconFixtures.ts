import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { expect } from 'vitest';
import { seedExternalSource, upsertLedgerTransactions, type Db, type LedgerTransaction } from '@accounting/data-pg';
import type { Criterion, ReconCandidate, ReconRunSummary } from '@accounting/service-core-accounting';
import type { TestApp } from '../../../../test/support/app.js';

/** The headers one caller sends: its tenant and role (and its user id, where a test needs one). */
export type Caller = Record<string, string> & { 'X-Tenant': string };

/** A suggestion as `GET /v1/accounting/recon/suggestions` lists it: the fields the tests read. */
export interface Suggestion {
  id: string;
  status: string;
  rule: string;
  rationale: string;
  confidence: number | null;
  criteria: Criterion[];
  candidates: ReconCandidate[];
  decision: string | null;
  transaction: { external_id: string };
  entry: { entry_id: string } | null;
}

/** A run as `GET /v1/accounting/recon/runs/:id` shows it: the fields the tests read. */
export interface Run {
  run_id: string;
  status: string;
  mode: string | null;
  summary: ReconRunSummary | null;
  error: { code: string; message: string } | null;
}

/** A run that succeeded: it has a mode and a summary. */
export type SucceededRun = Run & { mode: string; summary: ReconRunSummary };

/** An audit event as stored in `audit_events`, or as `GET /v1/accounting/audit` lists it. */
export interface AuditEvent {
  action: string;
  subject_id: string;
  details: Record<string, unknown>;
}

/**
 * The reconciliation helpers of a test file, each called with a tenant, which `as(tenant)` turns
 * into the caller's headers. `env` is read at each call, so a file makes them at module level,
 * before its `beforeAll` creates the schema (`db` is its owner) and builds the app `t`.
 */
export function reconFixtures(env: () => { db: Db; t: TestApp }, as: (tenant: string) => Caller) {
  /** The tenant's suggestions (the first 200; `query` adds filters, e.g. `&status=unmatched`). */
  async function suggestions(tenant: string, query = ''): Promise<Suggestion[]> {
    const res = await request(env().t.app).get(`/v1/accounting/recon/suggestions?limit=200${query}`).set(as(tenant));
    expect(res.status, res.text).toBe(200);
    return res.body.items as Suggestion[];
  }

  return {
    suggestions,

    /**
     * The tenant's bank source and lines as the sync stores them (sync number `seenMarker`; the
     * sync itself is tested against the simulator), then its ledger entries, if any, as the API imports them.
     */
    async seed(tenant: string, txs: LedgerTransaction[], entries: object[] = [], seenMarker = '1'): Promise<void> {
      const { db, t } = env();
      await seedExternalSource(db, tenant, { source: 'bank_sbx', kind: 'bank_sbx', connectionId: `conn_${tenant}`, enabled: true });
      await upsertLedgerTransactions(db, { tenant, source: 'bank_sbx', seenMarker }, txs);
      if (entries.length === 0) return;
      const imported = await request(t.app).post('/v1/accounting/ledger-entries').set(as(tenant)).send({ entries });
      expect(imported.status, imported.text).toBe(200);
    },

    /** POST recon/run (with `body`, e.g. a date range), then the run once it ended; it must succeed. */
    async runRecon(tenant: string, body: object = {}): Promise<SucceededRun> {
      const { t } = env();
      const accepted = await request(t.app).post('/v1/accounting/recon/run').set(as(tenant)).send(body);
      expect(accepted.status, accepted.text).toBe(202);
      const run = await t.reconRuns.waitFor(tenant, accepted.body.run_id, 20);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      return run as SucceededRun;
    },

    /** The tenant's suggestion for bank line `externalId`; throws when there is none. */
    async byTx(tenant: string, externalId: string): Promise<Suggestion> {
      const found = (await suggestions(tenant)).find((s) => s.transaction.external_id === externalId);
      if (!found) throw new Error(`no suggestion for ${externalId}`);
      return found;
    },

    /** POST the decision `body` on suggestion `id`, under a fresh idempotency key. */
    decide: (tenant: string, id: string, body: object) =>
      request(env().t.app)
        .post(`/v1/accounting/recon/suggestions/${id}/decision`)
        .set({ ...as(tenant), 'Idempotency-Key': randomUUID() })
        .send(body),

    /** The tenant's audit events as stored, oldest first. */
    async storedAudit(tenant: string): Promise<AuditEvent[]> {
      const { rows } = await env().db.query<AuditEvent>(`SELECT action, subject_id, details FROM audit_events WHERE tenant = $1 ORDER BY id`, [tenant]);
      return rows;
    },

    /** The tenant's audit events of `action`, as `GET /v1/accounting/audit` lists them to the caller. */
    async auditEvents(tenant: string, action: string): Promise<(AuditEvent & { actor: { id: string | null } })[]> {
      const res = await request(env().t.app).get(`/v1/accounting/audit?action=${action}`).set(as(tenant));
      expect(res.status, res.text).toBe(200);
      return res.body.items as (AuditEvent & { actor: { id: string | null } })[];
    },
  };
}
