import { parseArgs } from 'node:util';
import { z } from 'zod';
import { connectionIdSchema, describeIssues } from './schemas.js';

export interface CliConfig {
  port: number;
  host: string;
  seed: string;
  token: string;
  connections: string[];
  days: number;
  perDay: number;
  /** Start instant of the sandbox clock (which then runs in real time); default: the real time. */
  now?: Date;
}

export const CLI_USAGE = `usage: bank-sandbox-sim [--port 8090] [--host 127.0.0.1] [--seed 42] [--token <t>]
                        [--connections conn_default,conn_pilot_a] [--days 14] [--per-day 20]
                        [--now 2026-11-22T03:10:00Z]
The token may come from BANK_SBX_TOKEN instead of --token (preferred: argv is visible to ps).`;

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `--${name} must be at least ${min}`).max(max, `--${name} must be at most ${max}`));

const configSchema = z.object({
  port: integer('port', 0, 65_535),
  host: z.string().min(1, '--host must not be empty'),
  seed: z.string().min(1, '--seed must not be empty'),
  token: z.string({ error: 'BANK_SBX_TOKEN (or --token) is required' }).min(1, 'BANK_SBX_TOKEN (or --token) is required'),
  connections: z
    .string()
    .transform((list) => list.split(',').map((id) => id.trim()).filter((id) => id.length > 0))
    .pipe(z.array(connectionIdSchema).min(1, '--connections needs at least one id')),
  days: integer('days', 0, 3_660),
  perDay: integer('per-day', 0, 100_000),
  now: z.iso
    .datetime({ offset: true, error: '--now must be an ISO 8601 date-time such as 2026-11-22T03:10:00Z' })
    .transform((text) => new Date(text))
    .optional(),
});

export class CliConfigError extends Error {}

/**
 * The CLI's configuration from `argv` and `env`, or a `CliConfigError` whose one-line message
 * names the bad option. The token's value never appears in a message.
 */
export function parseCliConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CliConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', default: '8090' },
        host: { type: 'string', default: '127.0.0.1' },
        seed: { type: 'string', default: '42' },
        token: { type: 'string' },
        connections: { type: 'string', default: 'conn_default' },
        days: { type: 'string', default: '14' },
        'per-day': { type: 'string', default: '20' },
        now: { type: 'string' },
      },
    }).values;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : 'bad arguments';
    throw new CliConfigError(`${message}\n${CLI_USAGE}`);
  }
  const parsed = configSchema.safeParse({
    port: values.port,
    host: values.host,
    seed: values.seed,
    token: values.token ?? env.BANK_SBX_TOKEN,
    connections: values.connections,
    days: values.days,
    perDay: values['per-day'],
    now: values.now,
  });
  if (!parsed.success) throw new CliConfigError(describeIssues(parsed.error));
  const { now, ...rest } = parsed.data;
  return now === undefined ? rest : { ...rest, now };
}
