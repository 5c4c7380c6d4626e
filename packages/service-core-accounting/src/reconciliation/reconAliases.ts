import {
  deleteReconAlias,
  findLedgerEntry,
  learnReconAlias,
  listReconAliases,
  markLinesNamed,
  type Queryable,
  type ReconAliasRow,
  type SuggestionView,
} from '@accounting/data-pg';
import type { Actor } from '../audit/manualReview.js';
import { recordActorEvent } from '../audit/recordAuditEvent.js';
import { NotFoundError } from '../errors.js';
import { sideAliasKey } from '../recon/index.js';

/** The longest alias name stored (migration 013); a longer key is not learned. */
const MAX_ALIAS_NAME = 400;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);


/**
 * Learns the counterparty alias a person's confirmation of `suggestion`'s line with `entryId`
 * shows (docs/RECON.md "Aliases"), inside the caller's transaction: the line's name (its
 * counterparty, else its description) with the entry's (its counterparty, else its memo), both
 * as `sideAliasKey`s. Learns nothing when either key is empty or too long, or both are equal
 * (the engine already sees that), or the tenant knew the pair. A new alias is a
 * `recon_alias_learned` audit event, and marks the lines named `bankName` for the next run
 * (`markLinesNamed`). Answers the new alias, else null.
 */
export async function learnAliasFromConfirmation(tx: Queryable, actor: Actor, suggestion: SuggestionView, entryId: string): Promise<ReconAliasRow | null> {
  const line = suggestion.transaction;
  const entry = suggestion.entry?.entry_id === entryId ? suggestion.entry : await findLedgerEntry(tx, actor.tenant, entryId);
  if (!entry) return null;
  const bankName = sideAliasKey(text(line.counterparty), text(line.description) ?? '');
  const ledgerName = sideAliasKey(text(entry.counterparty), text(entry.memo) ?? '');
  if (!bankName || !ledgerName || bankName === ledgerName || bankName.length > MAX_ALIAS_NAME || ledgerName.length > MAX_ALIAS_NAME) return null;
  const externalId = String(line.external_id);
  const alias = await learnReconAlias(tx, actor.tenant, {
    bankName,
    ledgerName,
    learnedFrom: { suggestionId: suggestion.id, source: suggestion.source, externalId, entryId },
    createdBy: actor.userId ?? actor.role,
  });
  if (!alias) return null;
  await markLinesNamed(tx, actor.tenant, bankName);
  await recordActorEvent(tx, actor, {
    action: 'recon_alias_learned',
    subjectType: 'recon_alias',
    subjectId: alias.id,
    summary: `learned alias "${bankName}" <-> "${ledgerName}" from ${externalId} <-> ${entryId}`,
    details: { alias_id: alias.id, bank_name: bankName, ledger_name: ledgerName, suggestion_id: suggestion.id, source: suggestion.source, entry_id: entryId },
  });
  return alias;
}

/** A page of the tenant's aliases, newest first. */
export function listAliases(db: Queryable, tenant: string, page: { limit: number; beforeId?: string | null }): Promise<{ items: ReconAliasRow[]; next: string | null }> {
  return listReconAliases(db, tenant, page);
}

/**
 * A person removes one of the tenant's aliases (inside the caller's transaction): the next run
 * no longer uses it, and decides again the lines named like its bank name (`markLinesNamed`).
 * A `recon_alias_removed` audit event. `NotFoundError` when the tenant has no such alias.
 * Answers the removed alias.
 */
export async function removeAlias(tx: Queryable, actor: Actor, id: string): Promise<ReconAliasRow> {
  const alias = await deleteReconAlias(tx, actor.tenant, id);
  if (!alias) throw new NotFoundError('no such alias');
  await markLinesNamed(tx, actor.tenant, alias.bank_name);
  await recordActorEvent(tx, actor, {
    action: 'recon_alias_removed',
    subjectType: 'recon_alias',
    subjectId: alias.id,
    summary: `removed alias "${alias.bank_name}" <-> "${alias.ledger_name}"`,
    details: { alias_id: alias.id, bank_name: alias.bank_name, ledger_name: alias.ledger_name },
  });
  return alias;
}
