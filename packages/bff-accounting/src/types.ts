import type { InternalRole } from './config.js';

/** What the policy bridge resolved for a request; handlers and repositories use only this. */
export interface PolicyContext {
  readonly tenant: string;
  /** The internal role; `undefined` only in shadow mode when the incoming role is unmapped. */
  readonly role: InternalRole | undefined;
  /** `X-User-Id`, when the gateway sent a sane one. */
  readonly userId: string | undefined;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by the request-id middleware before anything else runs. */
      requestId: string;
      /** Set by `osPolicyBridge` on every `/v1` request that reached a handler. */
      policy?: PolicyContext;
    }
    interface Locals {
      /** The route pattern for metrics when it is known before Express matched a route. */
      routeLabel?: string;
    }
  }
}
