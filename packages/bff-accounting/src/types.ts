import type { InternalRole } from './config.js';
import type { Logger } from './logger.js';

/** What the policy bridge resolved for a request; handlers and repositories use only this. */
export interface PolicyContext {
  readonly tenant: string;
  /** The internal role; `undefined` only in shadow mode when the incoming role is unmapped. */
  readonly role: InternalRole | undefined;
  /** The audit actor: `X-User-Id` when the gateway sent a sane one; with `AUTH_MODE=jwt`, the token's user claim. */
  readonly userId: string | undefined;
}

declare global {
  // Express's request type is augmented through its global namespace; there is no other way in.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the request-id middleware before anything else runs. */
      requestId: string;
      /** The request-scoped logger (`request_id` bound), built on first use (`installRequestLog`). */
      log: Logger;
      /** Set by `osPolicyBridge` on every `/v1` request that reached a handler. */
      policy?: PolicyContext;
    }
    interface Locals {
      /** The route pattern for metrics when it is known before Express matched a route. */
      routeLabel?: string;
    }
  }
}
