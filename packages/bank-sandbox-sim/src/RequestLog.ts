import type { FaultType } from './FaultQueue.js';

/** One contract request as the sandbox saw it. The token itself is never kept. */
export interface RequestLogEntry {
  /** ISO timestamp from the sandbox clock, when the request arrived. */
  at: string;
  method: string;
  /** Path without the query string. */
  path: string;
  route: 'accounts' | 'sync' | 'other';
  connection_id: string | null;
  /** The `cursor` a sync request sent (`null` for a full sync, and for other routes). */
  cursor: string | null;
  /** Whether an `Authorization` header was present (not whether it was right). */
  authorization: boolean;
  /** False while the request is in flight. */
  done: boolean;
  /** `null` while in flight, or when no response was sent (a `reset` fault, or the client went away first). */
  status: number | null;
  fault: FaultType | null;
}

export type RequestArrival = Omit<RequestLogEntry, 'cursor' | 'done' | 'status' | 'fault'>;
export type RequestOutcome = Pick<RequestLogEntry, 'connection_id' | 'cursor' | 'status' | 'fault'>;

/** The last `limit` contract requests in order of arrival, so tests can count attempts. */
export class RequestLog {
  private items: RequestLogEntry[] = [];

  constructor(private readonly limit = 10_000) {}

  /** Logs a request as it arrives; call the returned function once its connection closes. */
  start(arrival: RequestArrival): (outcome: RequestOutcome) => void {
    const entry: RequestLogEntry = { ...arrival, cursor: null, done: false, status: null, fault: null };
    this.items.push(entry);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
    return (outcome) => {
      Object.assign(entry, outcome, { done: true });
    };
  }

  entries(): RequestLogEntry[] {
    return this.items.map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.items = [];
  }
}
