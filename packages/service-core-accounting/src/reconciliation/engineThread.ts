// The reconciliation engine's thread (node:worker_threads): `ReconEngine` starts it from the
// compiled dist/, so the CPU work of a run never holds the service's event loop. Pure: it only
// answers the requests of engineProtocol.ts.
import { parentPort } from 'node:worker_threads';
import type { LedgerEntry, ReconLineRow, SuggestionWrite } from '@accounting/data-pg';
import { candidateTraces, reconcileTraced, type CandidateTrace } from '../recon/reconcile.js';
import { sideAliasKey } from '../recon/textEvidence.js';
import type { ReconAlias, ReconBankTransaction, ReconLedgerEntry, ReconOutcome, ReconRules } from '../recon/types.js';
import { reconTransactionId, type EngineReply, type EngineRequest, type EngineRunCounts } from './engineProtocol.js';

interface Session {
  rules: ReconRules;
  lines: ReconLineRow[];
  transactions: ReconBankTransaction[];
  entries: ReconLedgerEntry[];
  taken: Set<string>;
  /** Entries stored suggestions auto-matched, by the line that holds each. */
  matchedBy: Map<string, string>;
  declined: Set<string>;
  aliases: ReconAlias[];
  /** Lines before this index were already scored. */
  scoredUpTo: number;
  outcomes: ReconOutcome[];
  traces: CandidateTrace[];
}

let session: Session | null = null;

function current(): Session {
  if (!session) throw new Error('no engine session: begin first');
  return session;
}

const toTransaction = (line: ReconLineRow): ReconBankTransaction => ({
  id: reconTransactionId(line.source, line.external_id),
  source: line.source,
  accountId: line.account_id,
  amount: line.amount,
  currency: line.currency,
  bookedDate: line.booked_date,
  status: line.status,
  description: line.description,
  counterparty: line.counterparty,
  reference: line.reference,
});

const toEntry = (entry: LedgerEntry): ReconLedgerEntry => ({
  id: entry.entry_id,
  amount: entry.amount,
  currency: entry.currency,
  date: entry.date,
  memo: entry.memo,
  reference: entry.reference,
  counterparty: entry.counterparty,
});

function handle(request: EngineRequest): unknown {
  switch (request.kind) {
    case 'begin':
      session = { rules: request.rules, lines: [], transactions: [], entries: [], taken: new Set(), matchedBy: new Map(), declined: new Set(), aliases: [], scoredUpTo: 0, outcomes: [], traces: [] };
      return null;
    case 'lines': {
      const s = current();
      for (const line of request.lines) {
        s.lines.push(line);
        s.transactions.push(toTransaction(line));
      }
      return null;
    }
    case 'entries': {
      const s = current();
      for (const entry of request.entries) s.entries.push(toEntry(entry));
      return null;
    }
    case 'taken':
      for (const id of request.entryIds) current().taken.add(id);
      return null;
    case 'matched':
      for (const row of request.rows) current().matchedBy.set(row.entry_id, reconTransactionId(row.source, row.external_id));
      return null;
    case 'declined':
      for (const pair of request.pairs) current().declined.add(`${reconTransactionId(pair.source, pair.external_id)}|${pair.entry_id}`);
      return null;
    case 'aliases':
      current().aliases.push(...request.aliases);
      return null;
    case 'score': {
      const s = current();
      const transactions = s.transactions.slice(s.scoredUpTo);
      s.scoredUpTo = s.transactions.length;
      return candidateTraces({ transactions, entries: s.entries, declinedPairs: s.declined, aliases: s.aliases, rules: s.rules });
    }
    case 'reconcile': {
      const s = current();
      // Lines of the run decide again; an entry a line outside it holds stays held.
      const inRun = new Set(s.transactions.map((tx) => tx.id));
      const matchedElsewhere = new Set([...s.matchedBy].filter(([, holder]) => !inRun.has(holder)).map(([entryId]) => entryId));
      const traced = reconcileTraced({
        transactions: s.transactions,
        entries: s.entries,
        takenEntryIds: s.taken,
        matchedElsewhereEntryIds: matchedElsewhere,
        declinedPairs: s.declined,
        aliases: s.aliases,
        rules: s.rules,
      });
      s.outcomes = traced.outcomes;
      s.traces = traced.traces;
      const counts: EngineRunCounts = { transactions: s.transactions.length, entries: s.entries.length, byStatus: { matched: 0, suggested: 0, unmatched: 0, blocked: 0 } };
      for (const outcome of s.outcomes) counts.byStatus[outcome.status] += 1;
      return counts;
    }
    case 'chunk': {
      const s = current();
      const writes: SuggestionWrite[] = [];
      const end = Math.min(s.outcomes.length, request.start + request.size);
      for (let i = request.start; i < end; i++) {
        const outcome = s.outcomes[i] as ReconOutcome;
        const line = s.lines[i] as ReconLineRow;
        writes.push({
          source: line.source,
          external_id: line.external_id,
          status: outcome.status,
          entry_id: outcome.entryId,
          confidence: outcome.confidence,
          rule: outcome.rule,
          rationale: outcome.rationale,
          criteria: outcome.criteria,
          candidates: outcome.candidates,
          rules_version: outcome.rulesVersion,
          scored: s.traces[i]?.scored ?? [],
          claimable: s.traces[i]?.claimable ?? [],
          seen: line.seen,
          alias_key: sideAliasKey(line.counterparty, line.description) || null,
        });
      }
      return JSON.stringify(writes);
    }
    case 'end':
      session = null;
      return null;
  }
}

const port = parentPort;
if (!port) throw new Error('engineThread.js runs as a worker thread of ReconEngine');
port.on('message', ({ id, request }: { id: number; request: EngineRequest }) => {
  let reply: EngineReply;
  try {
    reply = { id, ok: true, value: handle(request) };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    reply = { id, ok: false, error: { name: error.name, message: error.message } };
  }
  port.postMessage(reply);
});
