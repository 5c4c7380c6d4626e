import { z } from 'zod';
import { errorBody } from './commonSchemas.js';

// Responses of the ops routes (never gated): documented only; test/openapi.test.ts checks them.

/** `GET /health`. */
export const healthBody = z.object({ status: z.literal('ok') });

/** `GET /ready` when ready. */
export const readyBody = z.object({
  status: z.literal('ready'),
  database: z.string(),
  migrations: z.number().int().meta({ description: 'Number of migrations applied' }),
  exports: z.enum(['enabled', 'disabled']).meta({ description: '`disabled` without `EXPORT_SIGN_SECRET`' }),
});

/** `GET /ready` when not ready (503 NOT_READY). */
export const notReadyBody = z.intersection(
  errorBody,
  z.looseObject({
    error_code: z.literal('NOT_READY'),
    status: z.literal('not_ready'),
    reason: z.enum(['DATABASE_UNAVAILABLE', 'MIGRATIONS_PENDING', 'MIGRATIONS_CHANGED', 'SHUTTING_DOWN']),
  }),
);
