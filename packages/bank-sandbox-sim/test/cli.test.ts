import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliConfigError, parseCliConfig } from '../src/cliConfig.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cli-secret-token-91c2';

function startCli(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

function collect(child: ChildProcessWithoutNullStreams): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  return { out: () => out, err: () => err };
}

/** The first line the CLI writes to stdout. */
function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      child.stdout.off('data', onData);
      resolve(buffered.slice(0, newline));
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before printing a line`)));
  });
}

describe('parseCliConfig', () => {
  it('has the documented defaults and takes the token from BANK_SBX_TOKEN', () => {
    expect(parseCliConfig([], { BANK_SBX_TOKEN: 't' })).toEqual({
      port: 8090,
      host: '127.0.0.1',
      seed: '42',
      token: 't',
      connections: ['conn_default'],
      days: 14,
      perDay: 20,
    });
  });

  it('reads every option, --token over the environment', () => {
    const config = parseCliConfig(
      ['--port', '0', '--host', '::1', '--seed', 'abc', '--token', 'x', '--connections', 'conn_a, conn_b', '--days', '2', '--per-day', '3', '--now', '2026-11-22T03:10:00Z'],
      { BANK_SBX_TOKEN: 'env' },
    );
    expect(config).toEqual({
      port: 0,
      host: '::1',
      seed: 'abc',
      token: 'x',
      connections: ['conn_a', 'conn_b'],
      days: 2,
      perDay: 3,
      now: new Date('2026-11-22T03:10:00Z'),
    });
  });

  it.each([
    [['--port', '70000'], /--port/],
    [['--days', 'ten'], /--days/],
    [['--connections', 'bad id'], /connections/],
    [['--colour'], /Unknown option/],
    [['--now', 'yesterday'], /--now/],
  ])('refuses %j with a message naming the option', (args, message) => {
    expect(() => parseCliConfig(args, { BANK_SBX_TOKEN: 't' })).toThrow(message);
    expect(() => parseCliConfig(args, { BANK_SBX_TOKEN: 't' })).toThrow(CliConfigError);
  });

  it('requires a token, naming BANK_SBX_TOKEN', () => {
    expect(() => parseCliConfig([], {})).toThrow(/BANK_SBX_TOKEN/);
  });
});

describe('the CLI', () => {
  it('prints one JSON line with the URL, serves the contract, never prints the token, and stops cleanly on SIGTERM', async () => {
    const child = startCli(['--port', '0', '--seed', '42', '--connections', 'conn_default,conn_pilot_a', '--days', '2', '--per-day', '3'], { BANK_SBX_TOKEN: TOKEN });
    const output = collect(child);
    const line = JSON.parse(await firstLine(child)) as { url: string; connections: string[] };
    expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.connections).toEqual(['conn_default', 'conn_pilot_a']);

    const res = await fetch(`${line.url}/v1/connections/conn_pilot_a/accounts`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output.out()).toContain('"event":"stopped"');
    expect(output.out() + output.err()).not.toContain(TOKEN);
  });

  it('exits 2 with one line naming BANK_SBX_TOKEN when there is no token', async () => {
    const child = startCli(['--port', '0']);
    const output = collect(child);
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(output.err()).toMatch(/^bank-sandbox-sim: .*BANK_SBX_TOKEN/);
    expect(output.out()).toBe('');
  });
});
