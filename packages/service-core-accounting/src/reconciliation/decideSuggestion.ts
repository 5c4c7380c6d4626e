import {
  entryConfirmedElsewhere,
  findSuggestionForUpdate,
  recordSuggestionDecision,
  rememberDeclinedPair,
  type Queryable,
  type SuggestionView,
} from '@accounting/data-pg';
import type { Actor } from '../audit/manualReview.js';
import { recordAuditEvent } from '../audit/recordAuditEvent.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';

export interface SuggestionDecision {
  decision: 'confirm' | 'decline';
  /** Which candidate; default the suggestion's own entry. */
  entryId?: string | undefined;
  note?: string | undefined;
}

function candidateIds(suggestion: SuggestionView): string[] {
  const fromCandidates = (suggestion.candidates as { entryId?: unknown }[]).map((c) => c.entryId).filter((id): id is string => typeof id === 'string');
  const own = (suggestion.entry?.entry_id as string | undefined) ?? null;
  return [...new Set([...(own ? [own] : []), ...fromCandidates])];
}

/**
 * A person confirms or declines a suggestion (inside the caller's transaction, e.g. the
 * idempotency transaction). Confirm freezes the pair: the suggestion becomes `matched` and the
 * entry can match nothing else. Decline remembers the pair so it is never suggested again; the
 * next run recomputes the transaction. Each decision is a `recon_decision` audit event (a decline
 * also goes to the feedback webhook).
 */
export async function decideSuggestion(tx: Queryable, actor: Actor, suggestionId: string, input: SuggestionDecision): Promise<SuggestionView> {
  const suggestion = await findSuggestionForUpdate(tx, actor.tenant, suggestionId);
  if (!suggestion) throw new NotFoundError('no such suggestion');
  if (suggestion.decision !== null) {
    throw new ConflictError(`this suggestion was already decided (${suggestion.decision}); run reconciliation again for a new one`, 'SUGGESTION_ALREADY_DECIDED');
  }
  const candidates = candidateIds(suggestion);
  const entryId = input.entryId ?? candidates[0];
  if (!entryId || !candidates.includes(entryId)) {
    throw new UnprocessableError('the entry is not a candidate of this suggestion', 'ENTRY_NOT_A_CANDIDATE', { candidates });
  }
  if (input.decision === 'confirm') {
    if (suggestion.transaction.status === 'pending') {
      throw new UnprocessableError('a pending transaction cannot be confirmed; wait until it posts', 'TRANSACTION_PENDING');
    }
    if (await entryConfirmedElsewhere(tx, actor.tenant, entryId, suggestionId)) {
      throw new ConflictError(`entry ${entryId} is already matched to another transaction`, 'ENTRY_ALREADY_MATCHED', { entry_id: entryId });
    }
  } else {
    await rememberDeclinedPair(tx, actor.tenant, { source: suggestion.source, externalId: String(suggestion.transaction.external_id), entryId });
  }
  await recordSuggestionDecision(tx, actor.tenant, suggestionId, {
    decision: input.decision,
    entryId: input.decision === 'confirm' ? entryId : null,
    decidedBy: actor.userId ?? actor.role,
  });
  const externalId = String(suggestion.transaction.external_id);
  await recordAuditEvent(tx, actor.tenant, {
    actorRole: actor.role,
    actorId: actor.userId ?? null,
    action: 'recon_decision',
    subjectType: 'bank_transaction',
    subjectId: externalId,
    summary: `${input.decision === 'confirm' ? 'confirmed' : 'declined'} ${externalId} <-> ${entryId}`,
    details: {
      decision: input.decision,
      suggestion_id: suggestionId,
      source: suggestion.source,
      entry_id: entryId,
      status_before: suggestion.status,
      ...(input.note !== undefined ? { note: input.note } : {}),
    },
    requestId: actor.requestId ?? null,
  });
  return (await findSuggestionForUpdate(tx, actor.tenant, suggestionId)) as SuggestionView;
}
