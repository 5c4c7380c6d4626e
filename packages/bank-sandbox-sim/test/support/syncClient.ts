import type { Express } from 'express';
import request from 'supertest';
import { expect } from 'vitest';
import { contractSyncPageSchema, type ContractSyncPage, type ContractTransaction } from './contractSchema.js';
import { AUTH, byId } from './fixtures.js';

/**
 * What a well-behaved client keeps: transactions by id. `added` and `modified` upsert,
 * `removed` deletes (an unknown id is ignored and counted).
 */
export class ClientStore {
  readonly rows = new Map<string, ContractTransaction>();
  unknownRemovals = 0;

  apply(page: ContractSyncPage): void {
    for (const tx of [...page.added, ...page.modified]) this.rows.set(tx.transaction_id, tx);
    for (const { transaction_id } of page.removed) {
      if (!this.rows.delete(transaction_id)) this.unknownRemovals += 1;
    }
  }

  sorted(): ContractTransaction[] {
    return [...this.rows.values()].sort(byId);
  }
}

export interface SyncBody {
  connection_id: string;
  cursor?: string | null;
  count?: number;
  start_date?: string;
}

/** One `POST /v1/transactions/sync`, checked against the contract when it is a 200. */
export async function syncPage(app: Express, body: SyncBody): Promise<ContractSyncPage> {
  const res = await request(app).post('/v1/transactions/sync').set(AUTH).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return contractSyncPageSchema.parse(res.body);
}

export interface SyncRun {
  pages: ContractSyncPage[];
  /** `next_cursor` of the last page. */
  cursor: string;
}

/** Pages from `cursor` until `has_more` is false, applying every page to `store`. */
export async function syncToEnd(
  app: Express,
  store: ClientStore,
  options: { connectionId?: string; cursor?: string | null; count?: number; startDate?: string },
): Promise<SyncRun> {
  const pages: ContractSyncPage[] = [];
  let cursor = options.cursor ?? null;
  for (;;) {
    const page = await syncPage(app, {
      connection_id: options.connectionId ?? 'conn_default',
      cursor,
      ...(options.count !== undefined ? { count: options.count } : {}),
      ...(cursor === null && options.startDate !== undefined ? { start_date: options.startDate } : {}),
    });
    store.apply(page);
    pages.push(page);
    cursor = page.next_cursor;
    if (!page.has_more) return { pages, cursor };
    if (pages.length > 10_000) throw new Error('paging does not end');
  }
}
