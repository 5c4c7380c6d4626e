import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { configError } from './support/configError.js';
import { spawnBff } from '../../../test/support/process.js';


describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8081);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: '.data/pglite' });
    expect(config.policy.enforce).toBe(true);
    expect(config.policy.tenantAllowlist).toBeUndefined();
    expect(config.policy.roleMap).toEqual({ viewer: 'viewer', operator: 'operator', auditor: 'auditor', admin: 'admin' });
    expect(Object.isFrozen(config.policy)).toBe(true);
    expect(config.exports.maxConcurrent).toBe(2);
  });

  it('uses PostgreSQL when USE_PG=1 and DATABASE_URL is set', () => {
    const config = loadConfig({ USE_PG: '1', DATABASE_URL: 'postgres://app:app@localhost:5432/app' });
    expect(config.database).toEqual({
      kind: 'pg',
      url: 'postgres://app:app@localhost:5432/app',
      poolMax: 10,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 10_000,
      idleInTransactionTimeoutMs: 60_000,
      appRole: 'app',
    });
  });

  it('runs the migrations as the owner role of MIGRATION_DATABASE_URL, granting the role of DATABASE_URL', () => {
    const config = loadConfig({
      USE_PG: '1',
      DATABASE_URL: 'postgres://accounting_app:pw@db:5432/accounting',
      MIGRATION_DATABASE_URL: 'postgres://accounting_owner:secret@db:5432/accounting',
    });
    expect(config.database).toMatchObject({ migrationUrl: 'postgres://accounting_owner:secret@db:5432/accounting', appRole: 'accounting_app' });
  });

  it('refuses MIGRATION_DATABASE_URL beside a DATABASE_URL that names no user (nobody to grant), and a MIGRATION_DATABASE_URL that is no URL', () => {
    expect(() => loadConfig({ USE_PG: '1', DATABASE_URL: 'postgres://db:5432/accounting', MIGRATION_DATABASE_URL: 'postgres://owner@db/accounting' })).toThrow(
      /DATABASE_URL: must name its user/,
    );
    expect(() => loadConfig({ USE_PG: '1', DATABASE_URL: 'postgres://app@db/accounting', MIGRATION_DATABASE_URL: 'mysql://owner:secret@db' })).toThrow(
      /MIGRATION_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  });

  it('reads the database timeouts, 0 turning one off', () => {
    const config = loadConfig({
      USE_PG: '1',
      DATABASE_URL: 'postgres://app:app@localhost:5432/app',
      DB_CONNECT_TIMEOUT_MS: '1500',
      DB_STATEMENT_TIMEOUT_MS: '0',
      DB_LOCK_TIMEOUT_MS: '2500',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '45000',
    });
    expect(config.database).toMatchObject({ connectTimeoutMs: 1_500, statementTimeoutMs: 0, lockTimeoutMs: 2_500, idleInTransactionTimeoutMs: 45_000 });
    expect(() => loadConfig({ DB_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(/DB_STATEMENT_TIMEOUT_MS/);
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
    [{ BANK_SBX_CONNECTIONS_JSON: '{"default":["conn_ok","conn bad"]}' }, /BANK_SBX_CONNECTIONS_JSON: connection ids/],
    [{ BANK_SBX_CONNECTIONS_JSON: '{"default":[]}' }, /BANK_SBX_CONNECTIONS_JSON: a tenant needs at least one connection/],
    [{ BANK_SBX_CONNECTIONS_JSON: '{"default":7}' }, /BANK_SBX_CONNECTIONS_JSON: a tenant maps to a connection id or an array of them/],
    [{ BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_x","pilot-a":["conn_y","conn_x"]}' }, /BANK_SBX_CONNECTIONS_JSON: connection conn_x is assigned to two tenants \(default, pilot-a\)/],
    [{ PUSHGATEWAY_URL: 'pushgateway:9091' }, /PUSHGATEWAY_URL: must be an http\(s\) URL/],
    [{ EXPORT_MAX_CONCURRENT: '0' }, /EXPORT_MAX_CONCURRENT: /],
  ])('rejects %j with one line naming the variable', (env, message) => {
    const text = configError(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('reads BANK_SBX_CONNECTIONS_JSON with a tenant mapped to one connection id or to an array of them', () => {
    const config = loadConfig({ BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_default","pilot-a":["conn_a1","conn_a2"]}' });
    expect(config.bankSandbox.connections).toEqual({ default: ['conn_default'], 'pilot-a': ['conn_a1', 'conn_a2'] });
  });

  it('assigns no connection without BANK_SBX_CONNECTIONS_JSON, and the embedded demo\'s own (its closed one included)', () => {
    expect(loadConfig({}).bankSandbox.connections).toEqual({});
    expect(loadConfig({ BANK_SBX_EMBEDDED: '1' }).bankSandbox.connections).toEqual({
      default: ['conn_default', 'conn_default_closed'],
      'pilot-a': ['conn_pilot_a'],
    });
  });

  it('never echoes a secret in its message', () => {
    const secret = 'short-but-very-secret';
    const text = configError({ EXPORT_SIGN_SECRET: secret, EXPORT_SIGN_SECRET_PREV: secret });
    expect(text).toMatch(/EXPORT_SIGN_SECRET: must be at least 32 bytes/);
    expect(text).toMatch(/EXPORT_SIGN_SECRET_PREV: must be at least 32 bytes/);
    expect(text).not.toContain(secret);
  });

  it('limits the HTTP server by default: 10 s for headers, 30 s for a request, 1,000 connections', () => {
    expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1_000 });
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_MAX_CONNECTIONS: '200' }).http).toEqual({
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 60_000,
      maxConnections: 200,
    });
  });

  it('refuses a headers timeout longer than the request timeout, naming the variable', () => {
    expect(configError({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '30000' })).toContain(
      'HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS',
    );
  });

  it('does not echo the bad JSON value itself', () => {
    const text = configError({ OS_ROLE_MAP_JSON: '{"ops": tokenish-value-123}' });
    expect(text).not.toContain('tokenish-value-123');
  });

  it('reads RECON_HOLIDAYS_JSON and RECON_FEE_RULES_JSON into config.recon, {} for each by default', () => {
    expect(loadConfig({}).recon).toEqual({ autoMatchLimits: {}, holidays: {}, feeRules: {} });
    const config = loadConfig({
      RECON_HOLIDAYS_JSON: '{"default":{"KRW":["2026-12-31","2027-01-04"]},"pilot-a":{"JPY":[]}}',
      RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"500","max":"2000"},"USD":{"min":"0.50","max":"0.50"}}}',
    });
    expect(config.recon.holidays).toEqual({ default: { KRW: ['2026-12-31', '2027-01-04'] }, 'pilot-a': { JPY: [] } });
    expect(config.recon.feeRules).toEqual({ default: { KRW: { min: '500', max: '2000' }, USD: { min: '0.50', max: '0.50' } } });
    expect(Object.isFrozen(config.recon.feeRules.default?.KRW)).toBe(true);
  });

  it.each([
    [{ RECON_HOLIDAYS_JSON: '{default: 2026-12-31}' }, /RECON_HOLIDAYS_JSON: not valid JSON/],
    [{ RECON_HOLIDAYS_JSON: '{"default":{"KRW":["2026-13-40"]}}' }, /RECON_HOLIDAYS_JSON: Invalid ISO date/],
    [{ RECON_HOLIDAYS_JSON: '{"default":{"KRW":["2026-02-30"]}}' }, /RECON_HOLIDAYS_JSON: Invalid ISO date/],
    [{ RECON_HOLIDAYS_JSON: '{"default":{"KRW":"2026-12-31"}}' }, /RECON_HOLIDAYS_JSON: .*expected array/],
    [{ RECON_HOLIDAYS_JSON: '{"default":{"won":["2026-12-31"]}}' }, /RECON_HOLIDAYS_JSON: Invalid key in record/],
    [{ RECON_HOLIDAYS_JSON: '{"Pilot A":{"KRW":["2026-12-31"]}}' }, /RECON_HOLIDAYS_JSON: Invalid key in record/],
    [{ RECON_FEE_RULES_JSON: 'min=500,max=2000' }, /RECON_FEE_RULES_JSON: not valid JSON/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"3000","max":"2000"}}}' }, /RECON_FEE_RULES_JSON: min must not be above max/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"-500","max":"2000"}}}' }, /RECON_FEE_RULES_JSON: amounts are decimal strings/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":500,"max":2000}}}' }, /RECON_FEE_RULES_JSON: .*expected string/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"500"}}}' }, /RECON_FEE_RULES_JSON: .*expected string/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"500","max":"2000","fee":"1000"}}}' }, /RECON_FEE_RULES_JSON: Unrecognized key/],
    [{ RECON_FEE_RULES_JSON: '{"default":{"krw":{"min":"500","max":"2000"}}}' }, /RECON_FEE_RULES_JSON: Invalid key in record/],
  ])('rejects the recon rules %j with one line naming the variable', (env, message) => {
    const text = configError(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('does not echo a bad recon rules value', () => {
    const environments: Record<string, string>[] = [
      { RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"tokenish-value-123","max":"2000"}}}' },
      { RECON_FEE_RULES_JSON: 'tokenish-value-123' },
      { RECON_HOLIDAYS_JSON: '{"default":{"KRW":["tokenish-value-123"]}}' },
    ];
    for (const env of environments) expect(configError(env)).not.toContain('tokenish-value-123');
  });
});

describe('start-up with a bad environment', () => {
  it.each([
    [{ USE_PG: '1' }, 'DATABASE_URL: is required when USE_PG=1'],
    [{ OS_TENANT_ALLOWLIST_JSON: 'default,pilot-a' }, 'OS_TENANT_ALLOWLIST_JSON: not valid JSON'],
    [{ OS_ROLE_MAP_JSON: '{"operator":"root"}' }, 'OS_ROLE_MAP_JSON: roles must map to one of'],
    [{ RECON_HOLIDAYS_JSON: '{"default":{"KRW":["2026-13-40"]}}' }, 'RECON_HOLIDAYS_JSON: Invalid ISO date'],
    [{ RECON_FEE_RULES_JSON: '{"default":{"KRW":{"min":"3000","max":"2000"}}}' }, 'RECON_FEE_RULES_JSON: min must not be above max'],
  ])('%j stops the process with exit code 1 and one line on stderr', async (env, message) => {
    const bff = spawnBff(env);
    expect(await bff.exited).toBe(1);
    const stderr = bff.stderr.join('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(bff.stdout.join('')).not.toMatch(/listening/);
  });
});
