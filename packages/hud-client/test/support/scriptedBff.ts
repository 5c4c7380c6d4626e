import type { FetchLike, JsonValue, RequestInitLike, ResponseLike } from '../../src/index.js';

/** One request as the scripted server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: JsonValue | null;
}

/** What the next write gets instead of the default (apply, or replay a known key). */
export type ScriptedAnswer =
  | { status: number; body?: JsonValue; headers?: Record<string, string> }
  | { network: true }
  /** The server applies the write, then the connection drops before the answer arrives. */
  | { loseResponse: true }
  /** The write waits for `hold` before the server handles it. */
  | { hold: Promise<void> };

function respond(status: number, body: JsonValue | null, headers: Record<string, string> = {}): ResponseLike {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': `req-${status}`, ...headers },
  });
}

/**
 * A scripted stand-in for the BFF's write contract (docs/IDEMPOTENCY.md) behind `fetch`: a new
 * `Idempotency-Key` is applied once and answered 201; the same key again is answered the stored
 * outcome with `Idempotent-Replayed: true`. Scripted answers override the next writes in order.
 */
export class ScriptedBff {
  /** Requests that reached the server (not those refused while unreachable). */
  readonly requests: SeenRequest[] = [];
  /** Every attempt, reached or not, as "METHOD path". */
  readonly attempts: string[] = [];
  /** Writes the server applied, in order: one per key, ever. */
  readonly applied: { key: string; path: string; body: JsonValue | null }[] = [];
  /** Whether a connection can be made at all. */
  reachable = true;
  /** Answers of GET routes other than /health. */
  onGet: (path: string) => { status: number; body: JsonValue | null; headers?: Record<string, string> } = () => ({
    status: 404,
    body: { error_code: 'NOT_FOUND', message: 'not found', request_id: 'req-404' },
  });
  private readonly script: ScriptedAnswer[] = [];
  private readonly stored = new Map<string, { status: number; body: JsonValue }>();
  private readonly arrivals: { count: number; resolve: () => void }[] = [];

  /** Queues answers for the next writes. */
  next(...answers: ScriptedAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  /** Resolves once `count` writes have reached the server. */
  writesReceived(count: number): Promise<void> {
    if (this.writes().length >= count) return Promise.resolve();
    return new Promise((resolve) => this.arrivals.push({ count, resolve }));
  }

  /** The writes that reached the server. */
  writes(): SeenRequest[] {
    return this.requests.filter((request) => request.method !== 'GET');
  }

  readonly fetch: FetchLike = async (url: string, init: RequestInitLike) => {
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    this.attempts.push(`${init.method} ${path}`);
    if (!this.reachable) throw new TypeError('fetch failed: connect ECONNREFUSED');
    const body = init.body === undefined ? null : (JSON.parse(init.body) as JsonValue);
    this.requests.push({ method: init.method, path, headers: { ...init.headers }, body });
    if (init.method === 'GET') {
      if (path === '/health') return respond(200, { status: 'ok' });
      const answer = this.onGet(path);
      return respond(answer.status, answer.body, answer.headers);
    }
    for (const arrival of this.arrivals.filter((a) => this.writes().length >= a.count)) {
      this.arrivals.splice(this.arrivals.indexOf(arrival), 1);
      arrival.resolve();
    }
    const scripted = this.script.shift();
    if (scripted && 'network' in scripted) throw new TypeError('fetch failed: socket hang up');
    if (scripted && 'status' in scripted) return respond(scripted.status, scripted.body ?? null, scripted.headers);
    if (scripted && 'hold' in scripted) await scripted.hold;
    const answer = this.apply(init.headers['Idempotency-Key'] ?? '', path, body);
    if (scripted && 'loseResponse' in scripted) throw new TypeError('fetch failed: other side closed');
    return answer;
  };

  private apply(key: string, path: string, body: JsonValue | null): ResponseLike {
    const known = this.stored.get(key);
    if (known) return respond(known.status, known.body, { 'Idempotent-Replayed': 'true' });
    this.applied.push({ key, path, body });
    const outcome = { status: 201, body: { id: String(this.applied.length), path, request: body } };
    this.stored.set(key, outcome);
    return respond(outcome.status, outcome.body);
  }
}
