import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnBff, type BffProcess } from '../../../test/support/process.js';
import { jwtEnv, makeSigningKey, signToken, TestIdentityProvider } from './support/identityProvider.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/verify_pilot_gating.sh', import.meta.url));

const CHECKS = [
  'health',
  'ready',
  'metrics',
  'pilot-tenant-audit',
  'pilot-tenant-sources',
  'non-pilot-tenant-denied',
] as const;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the script as an operator would, with only PATH and `env` in its environment (so the
 * developer's own PILOT_TENANT or proxy settings cannot leak in). A non-zero exit is a result,
 * not an error; only a script that could not run or was killed rejects.
 */
function runScript(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`the script did not run to an exit code (${error.message}):\n${stdout}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

const lines = (text: string, prefix: string) => text.split('\n').filter((line) => line.startsWith(prefix));

/** The request lines the BFF logged for the script's requests (request ids verify-pilot-gating-N). */
function scriptRequestsSeen(bff: BffProcess): { request_id: string; msg: string }[] {
  return bff.stdout
    .filter((line) => line.includes('"request_id":"verify-pilot-gating-'))
    .map((line) => JSON.parse(line) as { request_id: string; msg: string })
    .filter((entry) => /^GET \S+ \d{3}$/.test(entry.msg));
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let schema: TestSchema;
beforeAll(async () => {
  schema = await createTestSchema('vt_verify');
});
afterAll(async () => {
  await schema?.drop();
});

const baseEnv = () => ({ PORT: '0', HOST: '127.0.0.1', USE_PG: '1', DATABASE_URL: schema.url, LOG_LEVEL: 'info' });

describe('verify_pilot_gating.sh against a BFF with the pilot allowlist enforced', () => {
  let bff: BffProcess;
  let url: string;
  beforeAll(async () => {
    bff = spawnBff({ ...baseEnv(), OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]', OS_POLICY_BRIDGE_ENFORCE: 'true' });
    url = `http://127.0.0.1:${await bff.port()}`;
  });
  afterAll(async () => {
    await bff?.stop();
  });

  it('passes all six checks, prints the summary and exits 0', async () => {
    const before = scriptRequestsSeen(bff).length;
    const run = await runScript([url]);

    expect(run.stderr).toBe('');
    expect(lines(run.stdout, 'PASS ')).toEqual(CHECKS.map((check) => `PASS ${check}`));
    expect(lines(run.stdout, 'FAIL')).toEqual([]);
    expect(lines(run.stdout, 'summary:')).toEqual(['summary: 6 passed, 0 failed']);
    expect(run.code).toBe(0);
    // The PASS lines come from real answers: the BFF saw each request, the denial included.
    // (Its log lines arrive through a pipe, possibly after the script has exited.)
    await expect.poll(() => scriptRequestsSeen(bff).slice(before).length).toBe(6);
    expect(scriptRequestsSeen(bff).slice(before).map((entry) => entry.msg)).toEqual([
      'GET /health 200',
      'GET /ready 200',
      'GET /metrics 200',
      'GET /v1/accounting/audit 200',
      'GET /v1/accounting/os/sources 200',
      'GET /v1/accounting/audit 403',
    ]);
  });

  it('accepts the base URL with a trailing slash', async () => {
    const run = await runScript([`${url}/`]);
    expect(lines(run.stdout, 'summary:')).toEqual(['summary: 6 passed, 0 failed']);
    expect(run.code).toBe(0);
  });

  it('when NON_PILOT_TENANT names an allowed tenant, the non-pilot check fails with the status and body it got', async () => {
    const run = await runScript([url], { NON_PILOT_TENANT: 'pilot-a' });

    expect(lines(run.stdout, 'PASS ')).toHaveLength(5);
    const failures = lines(run.stdout, 'FAIL ');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^FAIL non-pilot-tenant-denied: .*got 200\b/);
    expect(failures[0]).toContain('"tenant":"pilot-a"');
    expect(lines(run.stdout, 'summary:')).toEqual(['summary: 5 passed, 1 failed']);
    expect(run.code).toBe(1);
  });

  it('when AUDIT_ROLE lacks audit:read, the pilot audit check fails showing the 403 FORBIDDEN answer', async () => {
    const run = await runScript([url], { AUDIT_ROLE: 'viewer' });

    const failures = lines(run.stdout, 'FAIL ');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^FAIL pilot-tenant-audit: .*got 403/);
    expect(failures[0]).toContain('"error_code":"FORBIDDEN"');
    expect(run.code).toBe(1);
  });

  it('when the non-pilot tenant gets a 403 for another reason than TENANT_NOT_ENABLED, the non-pilot check fails', async () => {
    // pilot-a is allowed, viewer lacks audit:read: a 403, but FORBIDDEN, not the tenant gate.
    const run = await runScript([url], { NON_PILOT_TENANT: 'pilot-a', AUDIT_ROLE: 'viewer' });

    const denied = lines(run.stdout, 'FAIL non-pilot-tenant-denied: ');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toContain('lacks "error_code":"TENANT_NOT_ENABLED"');
    expect(denied[0]).toContain('"error_code":"FORBIDDEN"');
    expect(lines(run.stdout, 'PASS non-pilot-tenant-denied')).toEqual([]);
    expect(run.code).toBe(1);
  });
});

describe('verify_pilot_gating.sh against a BFF with no tenant allowlist', () => {
  let bff: BffProcess;
  let url: string;
  beforeAll(async () => {
    bff = spawnBff(baseEnv());
    url = `http://127.0.0.1:${await bff.port()}`;
  });
  afterAll(async () => {
    await bff?.stop();
  });

  it('when the tenant allowlist is unset, the non-pilot check fails and the script exits 1', async () => {
    const run = await runScript([url]);

    expect(lines(run.stdout, 'PASS ')).toEqual(CHECKS.filter((c) => c !== 'non-pilot-tenant-denied').map((c) => `PASS ${c}`));
    const failures = lines(run.stdout, 'FAIL ');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^FAIL non-pilot-tenant-denied: GET \/v1\/accounting\/audit as tenant pilot-b, role operator: .*got 200/);
    expect(lines(run.stdout, 'summary:')).toEqual(['summary: 5 passed, 1 failed']);
    expect(run.code).toBe(1);
  });
});

describe('verify_pilot_gating.sh against a BFF with AUTH_MODE=jwt', () => {
  let idp: TestIdentityProvider;
  let bff: BffProcess;
  let url: string;
  let pilotToken: string;
  let nonPilotToken: string;
  beforeAll(async () => {
    idp = await new TestIdentityProvider().start();
    const key = await makeSigningKey('verify-key');
    idp.published = [key];
    pilotToken = await signToken(key, { sub: 'verify.admin', tenant: 'default', role: 'admin' });
    nonPilotToken = await signToken(key, { sub: 'verify.operator', tenant: 'pilot-b', role: 'operator' });
    bff = spawnBff({ ...baseEnv(), ...jwtEnv(idp) });
    url = `http://127.0.0.1:${await bff.port()}`;
  });
  afterAll(async () => {
    await bff?.stop();
    await idp?.stop();
  });

  it('with BEARER_TOKEN and NON_PILOT_BEARER_TOKEN, passes all six checks and never prints a token', async () => {
    const run = await runScript([url], { BEARER_TOKEN: pilotToken, NON_PILOT_BEARER_TOKEN: nonPilotToken });

    expect(lines(run.stdout, 'PASS ')).toEqual(CHECKS.map((check) => `PASS ${check}`));
    expect(lines(run.stdout, 'summary:')).toEqual(['summary: 6 passed, 0 failed']);
    expect(run.code).toBe(0);
    for (const token of [pilotToken, nonPilotToken]) {
      expect(run.stdout + run.stderr).not.toContain(token);
      expect(bff.stdout.join('\n')).not.toContain(token);
    }
  });

  it('without tokens, fails the three /v1 checks on 401 and says which variable to set', async () => {
    const run = await runScript([url]);

    expect(lines(run.stdout, 'PASS ')).toEqual(['PASS health', 'PASS ready', 'PASS metrics']);
    const failures = lines(run.stdout, 'FAIL ');
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatch(/^FAIL pilot-tenant-audit: .*got 401 \(the BFF asks for a bearer token: AUTH_MODE=jwt; set BEARER_TOKEN\)/);
    expect(failures[0]).toContain('"error_code":"AUTH_REQUIRED"');
    expect(failures[2]).toMatch(/^FAIL non-pilot-tenant-denied: .*got 401.*set NON_PILOT_BEARER_TOKEN/);
    expect(run.code).toBe(1);
  });

  it("when the pilot token is another tenant's, the pilot checks fail on 403 IDENTITY_MISMATCH", async () => {
    const run = await runScript([url], { BEARER_TOKEN: nonPilotToken, NON_PILOT_BEARER_TOKEN: nonPilotToken });

    const failures = lines(run.stdout, 'FAIL ');
    expect(failures.map((line) => line.split(':')[0])).toEqual(['FAIL pilot-tenant-audit', 'FAIL pilot-tenant-sources']);
    expect(failures[0]).toContain('"error_code":"IDENTITY_MISMATCH"');
    expect(lines(run.stdout, 'PASS non-pilot-tenant-denied')).toHaveLength(1);
    expect(run.code).toBe(1);
  });

  it('refuses a BEARER_TOKEN that is not one token (exit 2), without printing it', async () => {
    const run = await runScript([url], { BEARER_TOKEN: 'abc\r\nX-Tenant: pilot-a' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BEARER_TOKEN must be one bearer token');
    expect(run.stderr).not.toContain('X-Tenant: pilot-a');
  });
});

describe('verify_pilot_gating.sh usage', () => {
  it('with --help, prints the usage, the variables and the exit codes, and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await runScript([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: verify_pilot_gating\.sh .*BASE_URL/);
      for (const name of ['PILOT_TENANT', 'NON_PILOT_TENANT', 'AUDIT_ROLE', 'SOURCES_ROLE', 'VERIFY_TIMEOUT_SECONDS', 'BEARER_TOKEN', 'NON_PILOT_BEARER_TOKEN']) {
        expect(run.stdout).toContain(name);
      }
      expect(run.stdout).toMatch(/^ {2}3 {2}the server cannot be reached/m);
    }
  });

  it('without an argument, prints a usage message and exits 2', async () => {
    const run = await runScript([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing BASE_URL');
    expect(run.stderr).toContain('Usage: verify_pilot_gating.sh');
    expect(run.stdout).toBe('');
  });

  it('with a URL that is not http(s), exits 2 without sending anything', async () => {
    const run = await runScript(['localhost:8081']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('must start with http:// or https://');
    expect(run.stdout).toBe('');
  });

  it('with a bad variable, exits 2 naming it', async () => {
    const run = await runScript(['http://127.0.0.1:1'], { VERIFY_TIMEOUT_SECONDS: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('VERIFY_TIMEOUT_SECONDS must be');
  });

  it('when nothing listens at the URL, says "cannot reach" once and exits 3 without check lines', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runScript([url]);
    expect(run.code).toBe(3);
    expect(run.stderr.match(/cannot reach/g)).toEqual(['cannot reach']);
    expect(run.stderr).toContain(`cannot reach ${url}`);
    expect(lines(run.stdout, 'PASS')).toEqual([]);
    expect(lines(run.stdout, 'FAIL')).toEqual([]);
  });

  it('when curl is not on PATH, says so and exits 2', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'verify-no-curl-'));
    try {
      const bash = await new Promise<string>((resolve, reject) =>
        execFile('bash', ['-c', 'command -v bash'], (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))),
      );
      await symlink(bash, join(bin, 'bash'));
      const run = await runScript(['http://127.0.0.1:1'], { PATH: bin });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('curl is required but was not found on PATH');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
