import { listLedgerTransactions, seedExternalSource, withTransaction, type Db } from '@accounting/data-pg';
import { listAuditTrail, requestManualReview } from '@accounting/service-core-accounting';
import { DEMO_CLOSED_CONNECTION } from './config.js';

/**
 * A second source of the demo's `default` tenant, on a bank connection the simulator does not
 * have (an account closed at the bank): every sync fails at once with `CONNECTION_NOT_FOUND`, so
 * the Backoffice shows a stale source with its last error, and the audit list failed syncs.
 */
export const DEMO_BROKEN_SOURCE = { ...DEMO_CLOSED_CONNECTION, source: 'bank_sbx_legacy' } as const;

/** Manual reviews per tenant: more than one page of the Backoffice's audit list (20). */
const DEMO_REVIEWS = 25;

const REASONS = [
  'amount looks wrong',
  'duplicate charge?',
  'receipt missing',
  'counterparty unknown to accounting',
  'booked in the wrong period',
];

/** Adds `DEMO_BROKEN_SOURCE` when the demo syncs its tenant; a source already there is kept. */
export async function seedDemoBrokenSource(db: Db, tenants: readonly string[]): Promise<boolean> {
  if (!tenants.includes(DEMO_BROKEN_SOURCE.tenant)) return false;
  const { tenant, source, connectionId } = DEMO_BROKEN_SOURCE;
  await seedExternalSource(db, tenant, { source, kind: 'bank_sbx', connectionId, enabled: true });
  return true;
}

/**
 * The HUD's manual-review requests the demo would have received: `DEMO_REVIEWS` of them on the
 * tenant's synced posted transactions (every third, in id order), reasons in turn, all in one
 * transaction. Deterministic; does nothing when the tenant already has a manual review.
 */
export async function seedDemoManualReviews(db: Db, tenant: string, source: string): Promise<number> {
  const existing = await listAuditTrail(db, tenant, { filter: { actions: ['manual_review_request'] }, limit: 1 });
  if (existing.items.length > 0) return 0;
  const posted = (await listLedgerTransactions(db, tenant, source)).filter((tx) => tx.removed_at === null && tx.status === 'posted');
  const subjects = posted.filter((_tx, i) => i % 3 === 0).slice(0, DEMO_REVIEWS);
  await withTransaction(db, async (tx) => {
    for (const [i, subject] of subjects.entries()) {
      const reason = `${REASONS[i % REASONS.length]}: ${subject.description}`;
      await requestManualReview(tx, { tenant, role: 'operator', userId: 'demo.hud' }, { subjectType: 'bank_transaction', subjectId: subject.external_id, reason });
    }
  });
  return subjects.length;
}
