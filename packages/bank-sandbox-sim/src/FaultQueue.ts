import { z } from 'zod';
import { InvalidRequestError } from './errors.js';
import { describeIssues } from './schemas.js';

/** Which contract requests a fault applies to. */
export type FaultTarget = 'sync' | 'accounts' | 'any';

/** How a `malformed` fault breaks a 200 body. */
export type MalformedVariant = 'amount_number' | 'missing_next_cursor' | 'has_more_string' | 'truncated_json';

const common = {
  /** Default `sync`. */
  target: z.enum(['sync', 'accounts', 'any']).optional(),
  /** How many matching requests the fault applies to, default 1. */
  times: z.number().int().min(1).max(10_000).optional(),
};

export const faultSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('rate_limit'), retry_after_seconds: z.number().int().min(0).max(86_400).optional(), ...common }),
  z.strictObject({ type: z.literal('server_error'), status: z.number().int().min(500).max(599).optional(), ...common }),
  z.strictObject({ type: z.literal('latency'), delay_ms: z.number().int().min(0).max(600_000), ...common }),
  z.strictObject({ type: z.literal('reset'), ...common }),
  z.strictObject({ type: z.literal('mutation_during_pagination'), ...common }),
  z.strictObject({ type: z.literal('invalid_cursor'), ...common }),
  z.strictObject({
    type: z.literal('malformed'),
    variant: z.enum(['amount_number', 'missing_next_cursor', 'has_more_string', 'truncated_json']).optional(),
    ...common,
  }),
]);

/** One fault to inject, e.g. `{ type: 'rate_limit', retry_after_seconds: 2, times: 3 }`. */
export type FaultSpec = z.infer<typeof faultSpecSchema>;
export type FaultType = FaultSpec['type'];

/** A fault as one request sees it, defaults filled in. */
export type Fault =
  | { type: 'rate_limit'; retry_after_seconds: number }
  | { type: 'server_error'; status: number }
  | { type: 'latency'; delay_ms: number }
  | { type: 'reset' }
  | { type: 'mutation_during_pagination' }
  | { type: 'invalid_cursor' }
  | { type: 'malformed'; variant: MalformedVariant };

export interface QueuedFault {
  fault: Fault;
  target: FaultTarget;
  /** Matching requests it still applies to. */
  remaining: number;
}

function withDefaults(spec: FaultSpec): Fault {
  switch (spec.type) {
    case 'rate_limit':
      return { type: spec.type, retry_after_seconds: spec.retry_after_seconds ?? 1 };
    case 'server_error':
      return { type: spec.type, status: spec.status ?? 500 };
    case 'latency':
      return { type: spec.type, delay_ms: spec.delay_ms };
    case 'malformed':
      return { type: spec.type, variant: spec.variant ?? 'amount_number' };
    default:
      return { type: spec.type };
  }
}

/**
 * Faults waiting for the next matching contract requests, first in first out: each request
 * takes the first queued fault whose target matches it, and that fault stays queued until it
 * has applied `times` times.
 */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  /** Queues `specs` in order; throws INVALID_REQUEST (and queues none) if one is invalid. */
  inject(specs: FaultSpec | readonly FaultSpec[]): QueuedFault[] {
    const list = Array.isArray(specs) ? specs : [specs as FaultSpec];
    const parsed = z.array(faultSpecSchema).min(1).safeParse(list);
    if (!parsed.success) throw new InvalidRequestError(describeIssues(parsed.error));
    const queued = parsed.data.map((spec) => ({ fault: withDefaults(spec), target: spec.target ?? 'sync', remaining: spec.times ?? 1 }));
    this.queue.push(...queued);
    return queued.map((q) => ({ ...q }));
  }

  /** The fault the next request to `target` gets, if any, consuming one of its uses. */
  take(target: 'sync' | 'accounts'): Fault | undefined {
    const index = this.queue.findIndex((q) => q.target === target || q.target === 'any');
    const entry = this.queue[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.queue.splice(index, 1);
    return entry.fault;
  }

  list(): QueuedFault[] {
    return this.queue.map((q) => ({ ...q, fault: { ...q.fault } }));
  }

  clear(): void {
    this.queue = [];
  }
}
