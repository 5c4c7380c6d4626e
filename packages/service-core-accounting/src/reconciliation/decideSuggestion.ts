import { randomUUID } from 'node:crypto';
import {
  findEntryMatchForUpdate,
  findSuggestion,
  findLineSuggestionsForUpdate,
  findSuggestionForUpdate,
  lockEntryDecisions,
  recordSuggestionDecision,
  releaseMatchOf,
  rememberDeclinedPair,
  undoSuggestionMatch,
  type Queryable,
  type ReconLineKey,
  type SuggestionOutcome,
  type SuggestionView,
} from '@accounting/data-pg';
import type { Actor } from '../audit/manualReview.js';
import { recordActorEvent } from '../audit/recordAuditEvent.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { reconTransactionId } from './engineProtocol.js';
import { learnAliasFromConfirmation } from './reconAliases.js';

export interface SuggestionDecision {
  decision: 'confirm' | 'decline';
  /** Which candidate; default the suggestion's own entry. */
  entryId?: string | undefined;
  /** Confirm only: take the entry from the line it is matched to (else 409 ENTRY_ALREADY_MATCHED). */
  replace?: boolean | undefined;
  /** Confirm only: confirm the suggestion's group candidate, a batch or a split (else 422 NOT_A_GROUP). */
  group?: boolean | undefined;
  note?: string | undefined;
}

/** A stored candidate, as the engine wrote it (`ReconCandidate`). */
interface StoredCandidate {
  entryId: string;
  confidence: number;
  criteria: unknown[];
  taken?: boolean;
  tier?: string;
  /** A batch: every entry the line pays, sorted (`entryId` is the first). */
  entryIds?: string[];
  /** A split: the other lines that pay `entryId` with this one, as engine ids (`reconTransactionId`). */
  transactionIds?: string[];
  /** The bank fee the tenant's fee rule accepts as the amount difference (a decimal string). */
  fee?: string;
}

/** A group candidate as a match: the entries it holds and its lines (engine ids, sorted). */
interface GroupMatch {
  kind: 'batch' | 'split';
  entryId: string;
  entryIds: string[];
  transactionIds: string[];
  fee: string | undefined;
}

function storedCandidates(suggestion: SuggestionView): StoredCandidate[] {
  return (suggestion.candidates as Partial<StoredCandidate>[]).filter((c): c is StoredCandidate => typeof c.entryId === 'string');
}

/** The suggestion's group candidate (its first, tier `group`) as a match; null when it has none. */
function groupOf(suggestion: SuggestionView): GroupMatch | null {
  const [first] = storedCandidates(suggestion);
  if (first?.tier !== 'group') return null;
  const own = reconTransactionId(suggestion.source, String(suggestion.transaction.external_id));
  if (Array.isArray(first.entryIds) && first.entryIds.length > 0) {
    return { kind: 'batch', entryId: first.entryId, entryIds: [...new Set(first.entryIds)].sort(), transactionIds: [own], fee: first.fee };
  }
  if (Array.isArray(first.transactionIds) && first.transactionIds.length > 0) {
    return { kind: 'split', entryId: first.entryId, entryIds: [first.entryId], transactionIds: [...new Set([own, ...first.transactionIds])].sort(), fee: first.fee };
  }
  return null;
}

const sameGroup = (a: GroupMatch, b: GroupMatch): boolean =>
  a.kind === b.kind && a.entryId === b.entryId && a.entryIds.join('\n') === b.entryIds.join('\n') && a.transactionIds.join('\n') === b.transactionIds.join('\n');

/** The line of an engine id (`<source>|<external_id>`). */
function lineOf(transactionId: string): ReconLineKey {
  const cut = transactionId.indexOf('|');
  return { source: transactionId.slice(0, cut), external_id: transactionId.slice(cut + 1) };
}

function groupChanged(why: string): ConflictError {
  return new ConflictError(`${why}; run reconciliation again for a new suggestion`, 'GROUP_CHANGED');
}

function candidateIds(suggestion: SuggestionView): string[] {
  const own = (suggestion.entry?.entry_id as string | undefined) ?? null;
  return [...new Set([...(own ? [own] : []), ...storedCandidates(suggestion).map((c) => c.entryId)])];
}

function outcomeOf(suggestion: SuggestionView): SuggestionOutcome {
  return {
    status: suggestion.status as SuggestionOutcome['status'],
    entryId: (suggestion.entry?.entry_id as string | undefined) ?? null,
    confidence: suggestion.confidence,
    rule: suggestion.rule,
    rationale: suggestion.rationale,
    criteria: suggestion.criteria,
    candidates: suggestion.candidates,
  };
}

/**
 * The line's outcome once `entryId` is no longer its match: the best remaining candidate that no
 * other line holds (`suggested`), else `unmatched`. `why` opens the rationale.
 */
function outcomeWithout(candidates: StoredCandidate[], rule: string, why: string, noneLeft: string): SuggestionOutcome {
  const next = candidates.find((c) => !c.taken);
  if (!next) return { status: 'unmatched', entryId: null, confidence: null, rule, rationale: `${why}; ${noneLeft} -> unmatched`, criteria: [], candidates };
  return {
    status: 'suggested',
    entryId: next.entryId,
    confidence: next.confidence,
    rule,
    rationale: `${why}; next candidate ${next.entryId} (${next.confidence.toFixed(2)}) -> suggested`,
    criteria: next.criteria,
    candidates,
  };
}

function declinedOutcome(suggestion: SuggestionView, entryId: string): SuggestionOutcome {
  const remaining = storedCandidates(suggestion).filter((c) => c.entryId !== entryId);
  const noneLeft = remaining.length === 0 ? 'all candidates were declined' : 'the other candidates are matched to other transactions';
  return outcomeWithout(remaining, 'declined', `entry ${entryId} was declined by a person`, noneLeft);
}

/** The holder's outcome once the entries `taken` are another line's: a candidate with any of them (a group too) is `taken`. */
function replacedOutcome(holder: SuggestionView, entryId: string, taken: readonly string[], toExternalId: string): SuggestionOutcome {
  const isTaken = (c: StoredCandidate): boolean => [c.entryId, ...(c.entryIds ?? [])].some((id) => taken.includes(id));
  const candidates = storedCandidates(holder).map((c) => (isTaken(c) ? { ...c, taken: true } : c));
  return outcomeWithout(candidates, 'match_replaced', `entry ${entryId} was reassigned to transaction ${toExternalId} by a person`, 'no other candidate');
}

function entryAlreadyMatched(entryId: string, holder: SuggestionView | undefined): ConflictError {
  const details: Record<string, unknown> = { entry_id: entryId };
  if (holder) {
    Object.assign(details, {
      matched_suggestion_id: holder.id,
      matched_source: holder.source,
      matched_external_id: String(holder.transaction.external_id),
      matched_by: holder.decision === 'confirm' ? 'person' : 'auto_match',
    });
  }
  const where = holder ? `transaction ${String(holder.transaction.external_id)}` : 'another transaction';
  return new ConflictError(`entry ${entryId} is already matched to ${where}; send "replace": true to reassign it`, 'ENTRY_ALREADY_MATCHED', details);
}

/**
 * The entry a confirm is about, its decisions locked (before any suggestion row: see
 * `lockEntryDecisions`). Null when the request names none and the suggestion has none.
 */
async function lockConfirmedEntry(tx: Queryable, actor: Actor, suggestionId: string, entryId: string | undefined): Promise<string | null> {
  let chosen = entryId;
  if (chosen === undefined) {
    const seen = await findSuggestion(tx, actor.tenant, suggestionId);
    if (!seen) throw new NotFoundError('no such suggestion');
    chosen = candidateIds(seen)[0];
  }
  if (chosen === undefined) return null;
  await lockEntryDecisions(tx, actor.tenant, chosen);
  return chosen;
}

/**
 * Undoes the match `holder` is part of because a person gives `entryId` (one of `taken`, the
 * entries of the new match) to the line `by`: every line of a confirmed match (a batch's line,
 * each line of a split), or the line a run auto-matched. Each line undone goes to its next free
 * candidate or `unmatched` (`replacedOutcome`), is marked for the next run, and gets a
 * `recon_match_replaced` audit event. Answers the lines undone.
 */
async function undoMatch(
  tx: Queryable,
  actor: Actor,
  holder: SuggestionView,
  entryId: string,
  taken: readonly string[],
  by: { suggestionId: string; externalId: string },
): Promise<SuggestionView[]> {
  const released = holder.decision === 'confirm' ? await releaseMatchOf(tx, actor.tenant, { source: holder.source, external_id: String(holder.transaction.external_id) }) : null;
  const wasGroup = released !== null && (released.entryIds.length > 1 || released.lines.length > 1);
  const releasedIds = (released?.lines ?? []).map((line) => reconTransactionId(line.source, line.external_id)).sort();
  const lines = [holder];
  for (const line of released?.lines ?? []) {
    if (line.suggestion_id === holder.id) continue;
    const other = await findSuggestionForUpdate(tx, actor.tenant, line.suggestion_id);
    if (other?.decision === 'confirm') lines.push(other);
  }
  for (const line of lines) {
    const undone = replacedOutcome(line, entryId, taken, by.externalId);
    await undoSuggestionMatch(tx, actor.tenant, line.id, undone);
    const lineExternalId = String(line.transaction.external_id);
    await recordActorEvent(tx, actor, {
      action: 'recon_match_replaced',
      subjectType: 'bank_transaction',
      subjectId: lineExternalId,
      summary: `unmatched ${lineExternalId} <-> ${entryId}: the entry was reassigned to ${by.externalId}`,
      details: {
        suggestion_id: line.id,
        source: line.source,
        entry_id: entryId,
        matched_by: line.decision === 'confirm' ? 'person' : 'auto_match',
        status_after: undone.status,
        replaced_by: { suggestion_id: by.suggestionId, external_id: by.externalId },
        ...(wasGroup ? { released: { entry_ids: released.entryIds, transaction_ids: releasedIds } } : {}),
      },
    });
  }
  return lines;
}

/**
 * A person confirms a suggestion's group candidate (`input.group`): a batch matches the line to
 * every entry it pays, a split matches every line of the split to its entry, in one
 * transaction, as one match (`recordSuggestionDecision`). The entries' decisions are locked in
 * sorted order before any suggestion row. Each entry another line holds answers
 * `ENTRY_ALREADY_MATCHED` unless `replace` (then that line's whole match is undone, `undoMatch`);
 * a split's other lines must each still be undecided and suggest the same split, else
 * `GROUP_CHANGED`. One `recon_decision` audit event per line, with `group`.
 */
async function confirmGroup(tx: Queryable, actor: Actor, suggestionId: string, input: SuggestionDecision): Promise<SuggestionView> {
  const seen = await findSuggestion(tx, actor.tenant, suggestionId);
  if (!seen) throw new NotFoundError('no such suggestion');
  const planned = groupOf(seen);
  for (const entryId of planned?.entryIds ?? []) await lockEntryDecisions(tx, actor.tenant, entryId);
  const suggestion = await findSuggestionForUpdate(tx, actor.tenant, suggestionId);
  if (!suggestion) throw new NotFoundError('no such suggestion');
  if (suggestion.decision !== null) {
    throw new ConflictError(`this suggestion was already decided (${suggestion.decision}); run reconciliation again for a new one`, 'SUGGESTION_ALREADY_DECIDED');
  }
  const group = groupOf(suggestion);
  if (!group) throw new UnprocessableError('the suggestion has no group candidate (a batch or a split) to confirm', 'NOT_A_GROUP');
  if (!planned || !sameGroup(group, planned)) throw groupChanged('the suggestion changed while it was being confirmed');
  if (input.entryId !== undefined && input.entryId !== group.entryId) {
    throw new UnprocessableError("the entry is not the group's entry", 'ENTRY_NOT_A_CANDIDATE', { candidates: [group.entryId] });
  }
  const ownId = reconTransactionId(suggestion.source, String(suggestion.transaction.external_id));
  const lines = [suggestion];
  if (group.kind === 'split') {
    const wanted = group.transactionIds.filter((id) => id !== ownId);
    const others = await findLineSuggestionsForUpdate(tx, actor.tenant, wanted.map(lineOf));
    for (const id of wanted) {
      const other = others.find((line) => reconTransactionId(line.source, String(line.transaction.external_id)) === id);
      const otherGroup = other ? groupOf(other) : null;
      if (!other || other.decision !== null || !otherGroup || !sameGroup(otherGroup, { ...group, fee: otherGroup.fee })) {
        throw groupChanged(`line ${id} of the split no longer suggests it`);
      }
      lines.push(other);
    }
  }
  if (lines.some((line) => line.transaction.status === 'pending')) {
    throw new UnprocessableError('a pending transaction cannot be confirmed; wait until it posts', 'TRANSACTION_PENDING');
  }
  const externalId = String(suggestion.transaction.external_id);
  const replaced: SuggestionView[] = [];
  for (const entryId of group.entryIds) {
    const holder = await findEntryMatchForUpdate(tx, actor.tenant, entryId, suggestionId);
    if (!holder) continue;
    if (!input.replace) throw entryAlreadyMatched(entryId, holder);
    replaced.push(...(await undoMatch(tx, actor, holder, entryId, group.entryIds, { suggestionId, externalId })));
  }
  const decidedBy = actor.userId ?? actor.role;
  const match = { key: `match:${suggestionId}:${randomUUID()}`, entryIds: group.entryIds };
  for (const line of lines) {
    const recorded = await recordSuggestionDecision(tx, actor.tenant, line.id, {
      decision: 'confirm',
      decidedBy,
      outcome: { ...outcomeOf(line), status: 'matched', entryId: group.entryId },
      match,
    });
    if (!recorded) throw entryAlreadyMatched(group.entryId, undefined);
    await learnAliasFromConfirmation(tx, actor, line, group.entryId);
  }
  const groupDetails = { kind: group.kind, entry_ids: group.entryIds, transaction_ids: group.transactionIds };
  for (const line of lines) {
    const lineExternalId = String(line.transaction.external_id);
    await recordActorEvent(tx, actor, {
      action: 'recon_decision',
      subjectType: 'bank_transaction',
      subjectId: lineExternalId,
      summary: `confirmed ${lineExternalId} <-> ${group.entryIds.join(' + ')} (${group.kind})`,
      details: {
        decision: 'confirm',
        suggestion_id: line.id,
        source: line.source,
        entry_id: group.entryId,
        status_before: line.status,
        group: groupDetails,
        ...(line.id !== suggestionId ? { confirmed_with: { suggestion_id: suggestionId, external_id: externalId } } : {}),
        ...(line.id === suggestionId && replaced.length > 0
          ? { replaced: replaced.map((r) => ({ suggestion_id: r.id, external_id: String(r.transaction.external_id) })) }
          : {}),
        ...(group.fee !== undefined ? { fee: group.fee } : {}),
        ...(input.note !== undefined ? { note: input.note } : {}),
      },
    });
  }
  return (await findSuggestionForUpdate(tx, actor.tenant, suggestionId)) as SuggestionView;
}

/**
 * A person confirms or declines a suggestion (inside the caller's transaction, e.g. the
 * idempotency transaction). Confirm freezes the pair (and teaches the tenant's counterparty
 * aliases the two names, `learnAliasFromConfirmation`): the suggestion becomes `matched` and the
 * entry can match nothing else. An entry another line holds (confirmed by a person or
 * auto-matched) answers `ENTRY_ALREADY_MATCHED`, unless `replace`: then that line's match is
 * undone in the same transaction (a `recon_match_replaced` audit event) and its line is decided
 * again by the next run. Confirms of one entry run one at a time. Decline remembers the pair so it
 * is never suggested again and leaves the line on its next candidate (`suggested`) or
 * `unmatched`; the next run recomputes it. Each decision is a `recon_decision` audit event (a
 * decline also goes to the feedback webhook). Answers the suggestion as it now stands.
 */
export async function decideSuggestion(tx: Queryable, actor: Actor, suggestionId: string, input: SuggestionDecision): Promise<SuggestionView> {
  if (input.group && input.decision === 'confirm') return confirmGroup(tx, actor, suggestionId, input);
  const lockedEntry = input.decision === 'confirm' ? await lockConfirmedEntry(tx, actor, suggestionId, input.entryId) : null;
  const suggestion = await findSuggestionForUpdate(tx, actor.tenant, suggestionId);
  if (!suggestion) throw new NotFoundError('no such suggestion');
  if (suggestion.decision !== null) {
    throw new ConflictError(`this suggestion was already decided (${suggestion.decision}); run reconciliation again for a new one`, 'SUGGESTION_ALREADY_DECIDED');
  }
  const candidates = candidateIds(suggestion);
  const entryId = lockedEntry ?? input.entryId ?? candidates[0];
  if (!entryId || !candidates.includes(entryId)) {
    throw new UnprocessableError('the entry is not a candidate of this suggestion', 'ENTRY_NOT_A_CANDIDATE', { candidates });
  }
  const externalId = String(suggestion.transaction.external_id);
  const decidedBy = actor.userId ?? actor.role;
  let replaced: SuggestionView | undefined;
  let fee: string | undefined;
  if (input.decision === 'confirm') {
    if (suggestion.transaction.status === 'pending') {
      throw new UnprocessableError('a pending transaction cannot be confirmed; wait until it posts', 'TRANSACTION_PENDING');
    }
    replaced = await findEntryMatchForUpdate(tx, actor.tenant, entryId, suggestionId);
    if (replaced && !input.replace) throw entryAlreadyMatched(entryId, replaced);
    if (replaced) await undoMatch(tx, actor, replaced, entryId, [entryId], { suggestionId, externalId });
    const recorded = await recordSuggestionDecision(tx, actor.tenant, suggestionId, {
      decision: 'confirm',
      decidedBy,
      outcome: { ...outcomeOf(suggestion), status: 'matched', entryId },
    });
    if (!recorded) throw entryAlreadyMatched(entryId, undefined);
    await learnAliasFromConfirmation(tx, actor, suggestion, entryId);
    fee = storedCandidates(suggestion).find((c) => c.entryId === entryId && c.tier !== 'group')?.fee;
  } else {
    await rememberDeclinedPair(tx, actor.tenant, { source: suggestion.source, externalId, entryId });
    await recordSuggestionDecision(tx, actor.tenant, suggestionId, { decision: 'decline', decidedBy, outcome: declinedOutcome(suggestion, entryId) });
  }
  await recordActorEvent(tx, actor, {
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
      ...(replaced ? { replaced: { suggestion_id: replaced.id, external_id: String(replaced.transaction.external_id) } } : {}),
      ...(fee !== undefined ? { fee } : {}),
      ...(input.note !== undefined ? { note: input.note } : {}),
    },
  });
  return (await findSuggestionForUpdate(tx, actor.tenant, suggestionId)) as SuggestionView;
}
