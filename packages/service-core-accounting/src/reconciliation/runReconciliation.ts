import {
  confirmedEntryIds,
  declinedPairs,
  ledgerEntriesBetween,
  lockReconciliation,
  storeSuggestions,
  unreconciledTransactions,
  withTransaction,
  type Db,
} from '@accounting/data-pg';
import { createHash } from 'node:crypto';
import { DEFAULT_RECON_RULES, reconcile, reconEntryWindowDays, type ReconRules } from '../recon/index.js';

/** The engine's transaction id for a bank transaction: unique across the tenant's sources. */
export const reconTransactionId = (source: string, externalId: string) => `${source}|${externalId}`;

const FAR_PAST = '0001-01-01';
const FAR_FUTURE = '9999-12-31';

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The rules for a tenant: the defaults with the tenant's auto-match limits, if configured
 * (`RECON_AUTO_MATCH_LIMITS_JSON`). The version says when limits were overridden.
 */
export function rulesForTenant(overrides: Readonly<Record<string, Readonly<Record<string, string>>>>, tenant: string): ReconRules {
  const limits = overrides[tenant];
  if (!limits) return DEFAULT_RECON_RULES;
  const autoMatchLimits = { ...DEFAULT_RECON_RULES.autoMatchLimits, ...limits };
  // The version names the limits in force, so a stored suggestion says exactly which rules made it.
  const digest = createHash('sha256').update(JSON.stringify(Object.entries(autoMatchLimits).sort())).digest('hex').slice(0, 8);
  return { ...DEFAULT_RECON_RULES, version: `${DEFAULT_RECON_RULES.version}+tenant-limits:${digest}`, autoMatchLimits };
}

export interface ReconRunSummary {
  rules_version: string;
  transactions: number;
  entries: number;
  written: number;
  by_status: Record<'matched' | 'suggested' | 'unmatched' | 'blocked', number>;
}

/**
 * Reconciles the tenant's live bank transactions (booked within [from, to], or all) that have
 * no confirmed match against its ledger entries, and stores one suggestion per transaction.
 * Safe to repeat: runs of one tenant are serialized, confirmed pairs are never touched and never
 * re-suggested, declined pairs never come back, and the same data gives the same suggestions.
 */
export async function runReconciliation(
  db: Db,
  tenant: string,
  options: { from?: string | undefined; to?: string | undefined; rules: ReconRules },
): Promise<ReconRunSummary> {
  return withTransaction(db, async (tx) => {
    await lockReconciliation(tx, tenant);
    const from = options.from ?? FAR_PAST;
    const to = options.to ?? FAR_FUTURE;
    // Entries as far off as any tier looks (a shared reference reaches further than the date window).
    const window = reconEntryWindowDays(options.rules);
    const transactions = await unreconciledTransactions(tx, tenant, from, to);
    const entries = await ledgerEntriesBetween(
      tx,
      tenant,
      options.from ? shiftDate(options.from, -window) : FAR_PAST,
      options.to ? shiftDate(options.to, window) : FAR_FUTURE,
    );
    const taken = await confirmedEntryIds(tx, tenant);
    const declined = new Set((await declinedPairs(tx, tenant)).map((p) => `${reconTransactionId(p.source, p.external_id)}|${p.entry_id}`));

    const outcomes = reconcile({
      transactions: transactions.map((t) => ({
        id: reconTransactionId(t.source, t.external_id),
        source: t.source,
        accountId: t.account_id,
        amount: t.amount,
        currency: t.currency,
        bookedDate: t.booked_date,
        status: t.status,
        description: t.description,
        counterparty: t.counterparty,
        reference: t.reference,
      })),
      entries: entries.map((e) => ({ id: e.entry_id, amount: e.amount, currency: e.currency, date: e.date, memo: e.memo, reference: e.reference, counterparty: e.counterparty })),
      takenEntryIds: taken,
      declinedPairs: declined,
      rules: options.rules,
    });

    const written = await storeSuggestions(
      tx,
      tenant,
      outcomes.map((outcome, i) => {
        const t = transactions[i] as (typeof transactions)[number];
        return {
          source: t.source,
          external_id: t.external_id,
          status: outcome.status,
          entry_id: outcome.entryId,
          confidence: outcome.confidence,
          rule: outcome.rule,
          rationale: outcome.rationale,
          criteria: outcome.criteria,
          candidates: outcome.candidates,
          rules_version: outcome.rulesVersion,
        };
      }),
    );
    const byStatus = { matched: 0, suggested: 0, unmatched: 0, blocked: 0 };
    for (const outcome of outcomes) byStatus[outcome.status] += 1;
    return { rules_version: options.rules.version, transactions: transactions.length, entries: entries.length, written, by_status: byStatus };
  });
}
