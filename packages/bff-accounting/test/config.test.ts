import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { spawnBff } from '../../../test/support/process.js';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8081);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: '.data/pglite' });
    expect(config.policy.enforce).toBe(true);
    expect(config.policy.tenantAllowlist).toBeUndefined();
    expect(config.policy.roleMap).toEqual({ viewer: 'viewer', operator: 'operator', auditor: 'auditor', admin: 'admin' });
    expect(Object.isFrozen(config.policy)).toBe(true);
  });

  it('uses PostgreSQL when USE_PG=1 and DATABASE_URL is set', () => {
    const config = loadConfig({ USE_PG: '1', DATABASE_URL: 'postgres://app:app@localhost:5432/app' });
    expect(config.database).toEqual({ kind: 'pg', url: 'postgres://app:app@localhost:5432/app', poolMax: 10 });
  });

  it('treats an empty variable as unset (Helm renders unset values as "")', () => {
    expect(loadConfig({ BANK_SBX_TOKEN: '', OS_TENANT_ALLOWLIST_JSON: '' }).policy.tenantAllowlist).toBeUndefined();
  });

  it('parses the seeds allowlist and role map', () => {
    const config = loadConfig({
      OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
      OS_ROLE_MAP_JSON: '{"viewer":"viewer","operator":"operator","auditor":"auditor","admin":"admin"}',
      OS_POLICY_BRIDGE_ENFORCE: 'false',
    });
    expect(config.policy).toEqual({
      enforce: false,
      tenantAllowlist: ['default', 'pilot-a'],
      roleMap: { viewer: 'viewer', operator: 'operator', auditor: 'auditor', admin: 'admin' },
    });
  });

  it.each([
    [{ USE_PG: '1' }, /DATABASE_URL: is required when USE_PG=1/],
    [{ USE_PG: 'yes' }, /USE_PG: /],
    [{ PORT: 'eighty' }, /PORT: /],
    [{ PORT: '70000' }, /PORT: /],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: /],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres/],
    [{ OS_POLICY_BRIDGE_ENFORCE: 'yes' }, /OS_POLICY_BRIDGE_ENFORCE: /],
    [{ OS_TENANT_ALLOWLIST_JSON: "['default']" }, /OS_TENANT_ALLOWLIST_JSON: not valid JSON/],
    [{ OS_TENANT_ALLOWLIST_JSON: '{"default":true}' }, /OS_TENANT_ALLOWLIST_JSON: must be an array/],
    [{ OS_TENANT_ALLOWLIST_JSON: '["Pilot A"]' }, /OS_TENANT_ALLOWLIST_JSON: tenant ids are 1-63 characters/],
    [{ OS_ROLE_MAP_JSON: '["operator"]' }, /OS_ROLE_MAP_JSON: /],
    [{ OS_ROLE_MAP_JSON: '{"ops":"superuser"}' }, /OS_ROLE_MAP_JSON: roles must map to one of viewer, operator, auditor, admin/],
    [{ BANK_SBX_BASE: 'ftp://bank' }, /BANK_SBX_BASE: must be an http\(s\) URL/],
    [{ BANK_SBX_CONNECTIONS_JSON: '{"default":"conn with spaces"}' }, /BANK_SBX_CONNECTIONS_JSON: connection ids/],
    [{ PUSHGATEWAY_URL: 'pushgateway:9091' }, /PUSHGATEWAY_URL: must be an http\(s\) URL/],
  ])('rejects %j with one line naming the variable', (env, message) => {
    const text = configError(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('never echoes a secret in its message', () => {
    const secret = 'short-but-very-secret';
    const text = configError({ EXPORT_SIGN_SECRET: secret, EXPORT_SIGN_SECRET_PREV: secret });
    expect(text).toMatch(/EXPORT_SIGN_SECRET: must be at least 32 bytes/);
    expect(text).toMatch(/EXPORT_SIGN_SECRET_PREV: must be at least 32 bytes/);
    expect(text).not.toContain(secret);
  });

  it('does not echo the bad JSON value itself', () => {
    const text = configError({ OS_ROLE_MAP_JSON: '{"ops": tokenish-value-123}' });
    expect(text).not.toContain('tokenish-value-123');
  });
});

describe('start-up with a bad environment', () => {
  it.each([
    [{ USE_PG: '1' }, 'DATABASE_URL: is required when USE_PG=1'],
    [{ OS_TENANT_ALLOWLIST_JSON: 'default,pilot-a' }, 'OS_TENANT_ALLOWLIST_JSON: not valid JSON'],
    [{ OS_ROLE_MAP_JSON: '{"operator":"root"}' }, 'OS_ROLE_MAP_JSON: roles must map to one of'],
  ])('%j stops the process with exit code 1 and one line on stderr', async (env, message) => {
    const bff = spawnBff(env);
    expect(await bff.exited).toBe(1);
    const stderr = bff.stderr.join('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(bff.stdout.join('')).not.toMatch(/listening/);
  });
});
