import { HudApiError, HudNetworkError } from './errors.js';
import { createHttpTransport, errorBodyOf, queryString, type HttpOutcome, type HttpTransport } from './http.js';
import { OfflineQueue } from './queue/OfflineQueue.js';
import type { BackoffPolicy } from './queue/retryPolicy.js';
import type { QueueStorage } from './queue/storage.js';
import type { FlushReport, WriteDescriptor, WriteOutcome } from './queue/types.js';
import { globalFetch, globalRandomUUID, globalTimers, systemClock, type Clock, type FetchLike, type Timers } from './runtime.js';
import type {
  AuditEvent,
  AuditPage,
  AuditQuery,
  HudIdentity,
  JsonObject,
  JsonValue,
  ManualReviewInput,
  ReconDecisionInput,
  ReconSuggestion,
  ReconSuggestionPage,
  ReconSuggestionQuery,
} from './types.js';

export interface HudClientOptions {
  /** The BFF, e.g. `https://gateway.example/accounting` (no trailing path is added). */
  baseUrl: string;
  /** Who acts; a function is asked on every call, so a user switch is picked up. */
  identity: HudIdentity | (() => HudIdentity);
  /** Where the offline queue lives: `createKeyValueStorage(localStorage)`, `createFileStorage(path)`... */
  storage: QueueStorage;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /**
   * Extra headers asked for on every request (e.g. the gateway's `Authorization`). Never stored
   * with a queued write, so a token is fresh when the write is finally sent.
   */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Default: `Date.now`. */
  clock?: Clock;
  /** Default: the global `setTimeout`/`clearTimeout`. */
  timers?: Timers;
  /** Default: `crypto.randomUUID` of the host (React Native needs a polyfill or this option). */
  randomUUID?: () => string;
  /** For the backoff jitter; default `Math.random`. */
  random?: () => number;
  backoff?: Partial<BackoffPolicy>;
  /** A request with no complete answer in this time counts as a network failure (default 30 s). */
  requestTimeoutMs?: number;
  /** Whether the device is online at start (default true). */
  online?: boolean;
  /** Failures of background work (a scheduled retry, a listener, the storage during a flush). */
  onError?: (error: unknown) => void;
}

const MANUAL_REVIEW_PATH = '/v1/accounting/audit/manual-review';

/** A JSON object of the fields that are set (an absent optional field is left out). */
function jsonFields(fields: Record<string, JsonValue | undefined>): JsonObject {
  const object: JsonObject = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) object[name] = value;
  return object;
}

async function extraHeaders(options: HudClientOptions): Promise<Record<string, string>> {
  return options.headers ? await options.headers() : {};
}

/** Whether the BFF answers `GET /health` with 200 (no identity needed). */
async function answersHealth(transport: HttpTransport, options: HudClientOptions): Promise<boolean> {
  const outcome = await transport({ method: 'GET', path: '/health', headers: await extraHeaders(options) });
  return outcome.kind === 'response' && outcome.status === 200;
}

function identityHeaders(identity: HudIdentity): Record<string, string> {
  return {
    'X-Tenant': identity.tenant,
    'X-User-Role': identity.role,
    ...(identity.userId !== undefined ? { 'X-User-Id': identity.userId } : {}),
  };
}

/**
 * The HUD's client of the accounting BFF. Reads throw `HudApiError` (the server's error body) or
 * `HudNetworkError`; writes go through the offline queue and answer a `WriteOutcome`.
 */
export class HudClient {
  private constructor(
    /** The offline queue behind every write: `queueCount`, `deadLetters`, `online()`... */
    readonly queue: OfflineQueue,
    private readonly transport: HttpTransport,
    private readonly options: HudClientOptions,
    private readonly clock: Clock,
  ) {}

  /** Opens the client and its queue (reading what a previous run left in `storage`). */
  static async open(options: HudClientOptions): Promise<HudClient> {
    const clock = options.clock ?? systemClock;
    const timers = options.timers ?? globalTimers();
    const transport = createHttpTransport({
      baseUrl: options.baseUrl,
      fetch: options.fetch ?? globalFetch(),
      timers,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    });
    const queue = await OfflineQueue.open({
      storage: options.storage,
      clock,
      timers,
      randomUUID: options.randomUUID ?? globalRandomUUID(),
      ...(options.random ? { random: options.random } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.online !== undefined ? { online: options.online } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      send: async (item) =>
        transport({
          method: item.method,
          path: item.path,
          headers: { ...(await extraHeaders(options)), ...identityHeaders(item.identity), 'Idempotency-Key': item.idempotencyKey },
          body: item.body,
        }),
      probe: () => answersHealth(transport, options),
    });
    return new HudClient(queue, transport, options, clock);
  }

  /** The tenant's audit events matching `query`, newest first (`GET /v1/accounting/audit`). */
  listAuditEvents(query: AuditQuery = {}): Promise<AuditPage> {
    const action = typeof query.action === 'string' ? [query.action] : query.action;
    return this.read<AuditPage>(
      `/v1/accounting/audit${queryString({
        action,
        subject_id: query.subject_id,
        actor: query.actor,
        from: query.from,
        to: query.to,
        q: query.q,
        limit: query.limit,
        cursor: query.cursor,
      })}`,
    );
  }

  /** Every audit event about one subject (all pages), newest first: what happened to it. */
  async auditTrailOf(subjectId: string, query: Omit<AuditQuery, 'subject_id' | 'cursor'> = {}): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listAuditEvents({ limit: 200, ...query, subject_id: subjectId, ...(cursor ? { cursor } : {}) });
      events.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return events;
  }

  /** Reconciliation suggestions with their rationale, newest first (`GET /v1/accounting/recon/suggestions`). */
  listReconSuggestions(query: ReconSuggestionQuery = {}): Promise<ReconSuggestionPage> {
    const status = typeof query.status === 'string' ? [query.status] : query.status;
    return this.read<ReconSuggestionPage>(
      `/v1/accounting/recon/suggestions${queryString({ status, limit: query.limit, cursor: query.cursor })}`,
    );
  }

  /**
   * Asks for a manual review: one `manual_review_request` audit event once the server has it.
   * `client_ts` defaults to now, so a review sent days later still says when it was asked.
   */
  requestManualReview(input: ManualReviewInput): Promise<WriteOutcome<AuditEvent>> {
    const body: ManualReviewInput = { ...input, client_ts: input.client_ts ?? new Date(this.clock.now()).toISOString() };
    return this.submit<AuditEvent>({
      kind: 'manual_review',
      method: 'POST',
      path: MANUAL_REVIEW_PATH,
      body: jsonFields({ ...body }),
      label: `Manual review of ${input.subject_id}`,
    });
  }

  /** Confirms or declines a reconciliation suggestion (one `recon_decision` audit event). */
  decideReconSuggestion(suggestionId: string, input: ReconDecisionInput): Promise<WriteOutcome<ReconSuggestion>> {
    return this.submit<ReconSuggestion>({
      kind: 'recon_decision',
      method: 'POST',
      path: `/v1/accounting/recon/suggestions/${encodeURIComponent(suggestionId)}/decision`,
      body: jsonFields({ ...input }),
      label: `${input.decision === 'confirm' ? 'Confirm' : 'Decline'} suggestion ${suggestionId}`,
    });
  }

  /**
   * Any write (an approval, a future route): queued with a fixed `Idempotency-Key`, sent in
   * order. `T` is the 2xx body's type as the route documents it; it is not checked at runtime.
   */
  async submit<T = JsonValue | null>(descriptor: WriteDescriptor): Promise<WriteOutcome<T>> {
    const outcome = await this.queue.submit(descriptor, this.identity());
    // The body is the route's documented JSON; the type parameter names it.
    return outcome as WriteOutcome<T>;
  }

  /** The network is back: flush the queue now (see `OfflineQueue.online`). */
  online(): Promise<FlushReport> {
    return this.queue.online();
  }

  /** The network is gone: only queue writes until `online()`. */
  offline(): void {
    this.queue.offline();
  }

  /** Whether the BFF answers `GET /health` (no identity needed). */
  checkHealth(): Promise<boolean> {
    return answersHealth(this.transport, this.options);
  }

  /** Stops retrying and waits for a running flush; the stored queue stays for the next `open`. */
  close(): Promise<void> {
    return this.queue.close();
  }

  private identity(): HudIdentity {
    return typeof this.options.identity === 'function' ? this.options.identity() : this.options.identity;
  }

  private async read<T>(path: string): Promise<T> {
    const outcome: HttpOutcome = await this.transport({
      method: 'GET',
      path,
      headers: { ...(await extraHeaders(this.options)), ...identityHeaders(this.identity()) },
    });
    if (outcome.kind === 'network') throw new HudNetworkError(`GET ${path}: ${outcome.message}`);
    if (outcome.status < 200 || outcome.status >= 300) throw new HudApiError(outcome.status, errorBodyOf(outcome));
    // The route's documented JSON (docs/API.md); `T` names it.
    return outcome.body as T;
  }
}

/** Opens a `HudClient`: see `HudClientOptions`. */
export function createHudClient(options: HudClientOptions): Promise<HudClient> {
  return HudClient.open(options);
}
