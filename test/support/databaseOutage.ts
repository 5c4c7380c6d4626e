import { setTimeout as sleep } from 'node:timers/promises';
import type { ThrowawayPostgres } from './throwawayPostgres.js';

/**
 * A bounded mixed load on a BFF while its PostgreSQL is stopped and started again: shared by
 * test/databaseFaults.test.ts (which asserts) and bench/db_outage.mjs (which reports figures).
 */

export const OUTAGE_HEADERS = { 'X-Tenant': 'default', 'X-User-Role': 'operator', 'Content-Type': 'application/json' };

export interface Outcome {
  /** When the request was sent (ms since the epoch). */
  at: number;
  write: boolean;
  status: number;
  errorCode?: string;
  retryAfter?: string | null;
  subjectId: string;
  /** The request failed without an HTTP answer (refused, reset, timed out). */
  networkError?: string;
}

export interface Outage {
  stoppedAt: number;
  startedAt: number;
  /** `/ready` halfway through the outage: its body and HTTP status. */
  readyDuring: Record<string, unknown>;
  /** ms from `pg_ctl start` returning to the first 2xx of a request sent after it. */
  recoveryMs: number;
}

/** One request: a manual-review write (idempotent, keyed by `subjectId`) or an audit read. */
export async function outageRequest(base: string, write: boolean, subjectId: string): Promise<Outcome> {
  const at = Date.now();
  try {
    const res = write
      ? await fetch(`${base}/v1/accounting/audit/manual-review`, {
          method: 'POST',
          headers: { ...OUTAGE_HEADERS, 'Idempotency-Key': subjectId },
          body: JSON.stringify({ subject_type: 'ledger_entry', subject_id: subjectId, reason: 'database outage' }),
          signal: AbortSignal.timeout(20_000),
        })
      : await fetch(`${base}/v1/accounting/audit?limit=5`, { headers: OUTAGE_HEADERS, signal: AbortSignal.timeout(20_000) });
    const body = (await res.json()) as { error_code?: string };
    return { at, write, status: res.status, retryAfter: res.headers.get('retry-after'), subjectId, ...(body.error_code ? { errorCode: body.error_code } : {}) };
  } catch (err) {
    return { at, write, status: 0, subjectId, networkError: err instanceof Error ? err.message : String(err) };
  }
}

/** `clients` loops of two reads and one write each, `pauseMs` apart, until stopped. */
export function startOutageLoad(base: string, options: { clients: number; pauseMs: number }): { outcomes: Outcome[]; stop: () => Promise<void> } {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: options.clients }, async (_, client) => {
    for (let n = 0; running; n += 1) {
      outcomes.push(await outageRequest(base, n % 3 === 2, `outage-${client}-${n}-${Date.now()}`));
      await sleep(options.pauseMs);
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Polls `probe` every 100 ms until it returns a value; throws after `timeoutMs`. */
export async function waitForValue<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * `cycles` times: `upMs` of load, `pg_ctl -m fast stop`, `outageMs` down (reading `/ready`
 * halfway), start, and wait for the first 2xx of a request sent after the start.
 */
export async function runOutageCycles(
  cluster: ThrowawayPostgres,
  base: string,
  outcomes: readonly Outcome[],
  options: { cycles: number; outageMs: number; upMs: number },
): Promise<Outage[]> {
  const outages: Outage[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle += 1) {
    await sleep(options.upMs);
    const stoppedAt = Date.now();
    await cluster.stop();
    await sleep(options.outageMs / 2);
    const ready = await fetch(`${base}/ready`);
    const readyDuring = { ...((await ready.json()) as Record<string, unknown>), http_status: ready.status };
    await sleep(options.outageMs / 2);
    await cluster.start();
    const startedAt = Date.now();
    const first = await waitForValue('the first 2xx after the database came back', () =>
      outcomes.find((o) => o.at >= startedAt && o.status >= 200 && o.status < 300),
    );
    outages.push({ stoppedAt, startedAt, readyDuring, recoveryMs: first.at - startedAt });
  }
  return outages;
}
