import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { INTERNAL_ROLES } from '../src/config.js';
import { API_ROUTES, PERMISSIONS, ROLE_PERMISSIONS, roleHasPermission } from '../src/policy/permissions.js';

describe('the permission table', () => {
  it('holds the seeds examples: operator reads the audit trail, admin reads the sources', () => {
    expect(roleHasPermission('operator', API_ROUTES.listAuditEvents.permission)).toBe(true);
    expect(roleHasPermission('admin', API_ROUTES.listSources.permission)).toBe(true);
  });

  it('lets auditors read audit and exports but change nothing', () => {
    expect(ROLE_PERMISSIONS.auditor).toEqual(expect.arrayContaining(['audit:read', 'exports:read']));
    expect(ROLE_PERMISSIONS.auditor.filter((p) => /create|write/.test(p))).toEqual([]);
  });

  it('does not let viewers read the audit trail', () => {
    expect(roleHasPermission('viewer', 'audit:read')).toBe(false);
  });

  it('grants every route permission to some role, and only known permissions', () => {
    for (const route of Object.values(API_ROUTES)) {
      expect(INTERNAL_ROLES.some((role) => roleHasPermission(role, route.permission))).toBe(true);
    }
    for (const granted of Object.values(ROLE_PERMISSIONS)) {
      for (const permission of granted) expect(PERMISSIONS).toContain(permission);
    }
  });

  it('lists only /v1 routes, which the policy bridge gates', () => {
    for (const route of Object.values(API_ROUTES)) expect(route.path.startsWith('/v1/')).toBe(true);
  });

  it('is mirrored exactly by docs/POLICY.md', async () => {
    const doc = await readFile(new URL('../../../docs/POLICY.md', import.meta.url), 'utf8');
    for (const route of Object.values(API_ROUTES)) {
      expect(doc).toContain(`| ${route.method} | \`${route.path}\` | \`${route.permission}\` |`);
    }
    for (const permission of PERMISSIONS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${permission}\` |`));
      expect(row, `docs/POLICY.md has no role row for ${permission}`).toBeDefined();
      const cells = row!.split('|').slice(2, 6).map((cell) => cell.trim() === 'yes');
      expect(cells).toEqual(INTERNAL_ROLES.map((role) => roleHasPermission(role, permission)));
    }
  });
});
