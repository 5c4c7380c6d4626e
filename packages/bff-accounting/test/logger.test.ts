import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cachedIsoTime, createLogger, infoAccessLine } from '../src/logger.js';
import { spawnNode } from '../../../test/support/process.js';

// The built logger, as the service runs it (stdout is the real fd 1 of a child process).
const LOGGER_DIST = pathToFileURL(fileURLToPath(new URL('../dist/logger.js', import.meta.url))).href;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bff-logger-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `import { createLogger } from ${JSON.stringify(LOGGER_DIST)};\nconst logger = createLogger('info');\n${body}\n`);
  return path;
}

describe('the service logger on stdout', () => {
  it('writes every line, in order, even when the process exits in the turn that logged them', async () => {
    const entry = await script('exit.mjs', `for (let i = 0; i < 2000; i++) logger.info({ i }, 'line ' + i);\nprocess.exit(0);`);
    const child = spawnNode(entry, [], {});
    expect(await child.exited).toBe(0);
    const lines = child.stdout.filter(Boolean).map((line) => JSON.parse(line) as { i: number; msg: string; level: string });
    expect(lines.map((line) => line.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(lines[1999]).toMatchObject({ level: 'info', msg: 'line 1999', service: 'bff-accounting' });
    expect(JSON.parse(child.stdout[0]!).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes a lone line soon after it is logged, without waiting for more lines or an exit', async () => {
    const entry = await script('idle.mjs', `logger.warn('only line');\nsetTimeout(() => undefined, 60_000);`);
    const child = spawnNode(entry, [], {});
    try {
      expect(JSON.parse(await child.waitFor(/only line/, 10_000))).toMatchObject({ level: 'warn', msg: 'only line' });
    } finally {
      await child.stop();
    }
  });

  it('lets a process that only logs exit by itself: waiting lines do not keep it alive, its exit writes them', async () => {
    // "beforeExit" comes when nothing keeps the event loop alive; a waiting line must not.
    const entry = await script(
      'done.mjs',
      `import { writeSync } from 'node:fs';\nprocess.once('beforeExit', () => writeSync(1, 'LOOP EMPTY\\n'));\nlogger.info('first');\nsetTimeout(() => logger.info('last'), 5);`,
    );
    const child = spawnNode(entry, [], {});
    expect(await child.exited).toBe(0);
    expect(child.stdout.filter(Boolean).map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line))).toEqual([
      'LOOP EMPTY',
      'first',
      'last',
    ]);
  });

  it('writes the waiting lines at once when 16 Ki characters are waiting, without waiting for the timer', async () => {
    // 200 lines of ~200 characters in one turn, then a marker written straight to fd 1: at
    // least the first 16 Ki characters of lines must already be out when the marker is.
    const entry = await script(
      'burst.mjs',
      `import { writeSync } from 'node:fs';\nfor (let i = 0; i < 200; i++) logger.info({ i, pad: 'x'.repeat(100) }, 'burst');\nwriteSync(1, 'MARK\\n');\nsetTimeout(() => process.exit(0), 200);`,
    );
    const child = spawnNode(entry, [], {});
    expect(await child.exited).toBe(0);
    const lines = child.stdout.filter(Boolean);
    const mark = lines.indexOf('MARK');
    const before = lines.slice(0, mark);
    expect(before.join('\n').length).toBeGreaterThanOrEqual(16 * 1024 - 300);
    expect(mark).toBeLessThan(200);
    expect(lines.filter((line) => line !== 'MARK').map((line) => (JSON.parse(line) as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('writes the lines logged before an uncaught exception ends the process', async () => {
    const entry = await script('crash.mjs', `logger.info('before the crash');\nsetTimeout(() => { throw new Error('boom'); }, 5);`);
    const child = spawnNode(entry, [], {});
    expect(await child.exited).toBe(1);
    expect(child.stdout.filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['before the crash']);
    expect(child.stderr.join('\n')).toContain('boom');
  });
});

describe('the log line timestamp', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is pino's ISO time of the current millisecond, and changes when the millisecond does", () => {
    vi.useFakeTimers({ now: new Date('2026-12-04T16:37:49.123Z'), toFake: ['Date'] });
    const time = cachedIsoTime();
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
    expect(time()).toBe(',"time":"2026-12-04T16:37:49.123Z"');
    vi.setSystemTime(new Date('2026-12-04T16:37:49.124Z'));
    expect(time()).toBe(',"time":"2026-12-04T16:37:49.124Z"');
    vi.setSystemTime(new Date('2026-12-05T00:00:00.000Z'));
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
  });
});

describe('the access line template (infoAccessLine)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A logger made by `createLogger` whose lines are kept in memory. */
  function capturedLogger(level: string) {
    const lines: string[] = [];
    const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
    return { logger, lines };
  }

  const awkwardUrls = [
    '/v1/accounting/os/sources?x=1',
    '/v1/accounting/audit?q=%22quoted%22&q2="raw"',
    '/v1/a\\b/%s/%d',
    '/v1/accounting/audit?q=한빛상사 영수증',
    '/v1/\u0001\u001f/tab\there',
  ];

  it.each(awkwardUrls)('writes, byte for byte, the line pino writes for the same fields: %s', (url) => {
    vi.useFakeTimers({ now: new Date('2026-12-05T10:11:12.345Z'), toFake: ['Date'] });
    const { logger, lines } = capturedLogger('info');
    const fields = { request_id: 'req-"1"', method: 'GET', url, status: 200, duration_ms: 3 };
    const message = `GET ${url} 200`;
    infoAccessLine(logger)!(fields, message);
    logger.info(fields, message);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(lines[1]);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'info', time: '2026-12-05T10:11:12.345Z', service: 'bff-accounting', ...fields, msg: message });
  });

  it('writes nothing when the logger is above info, and follows a level changed later', () => {
    const { logger, lines } = capturedLogger('warn');
    const write = infoAccessLine(logger)!;
    const fields = { request_id: 'r', method: 'GET', url: '/x', status: 200, duration_ms: 0 };
    write(fields, 'GET /x 200');
    expect(lines).toEqual([]);
    logger.level = 'info';
    write(fields, 'GET /x 200');
    expect(lines).toHaveLength(1);
  });

  it('is only there for loggers made by createLogger: a child or a foreign pino logs through pino', () => {
    const { logger } = capturedLogger('info');
    expect(infoAccessLine(logger)).toBeTypeOf('function');
    expect(infoAccessLine(logger.child({ request_id: 'x' }))).toBeUndefined();
    expect(infoAccessLine(pino())).toBeUndefined();
  });
});
