import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { can, isRole, PERMISSIONS, ROLE_PERMISSIONS, ROLES, type Permission, type Role } from './permissions';

/** The permission table as docs/security.md prints it: a change to either must change this test. */
const TABLE: Record<Permission, readonly Role[]> = {
  'studio:read': ['viewer', 'curator', 'red-teamer', 'operator', 'admin'],
  'contexts:write': ['curator', 'admin'],
  'datasets:curate': ['curator', 'admin'],
  'models:query': ['curator', 'red-teamer', 'operator', 'admin'],
  'feedback:submit': ['curator', 'red-teamer', 'admin'],
  'preferences:publish': ['curator', 'red-teamer', 'operator', 'admin'],
  'redteam:write': ['red-teamer', 'admin'],
  'runs:operate': ['operator', 'admin'],
  'deployments:write': ['operator', 'admin'],
  'deployments:override': ['admin'],
  'keys:manage': ['admin'],
  'audit-log:read': ['admin'],
};

describe('the permission table', () => {
  it.each(Object.keys(PERMISSIONS) as Permission[])('grants %s to exactly its roles', (permission) => {
    expect(ROLES.filter((role) => can(role, permission))).toEqual(TABLE[permission]);
  });

  it('covers every permission, and admin holds them all', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(PERMISSIONS).sort());
    expect([...ROLE_PERMISSIONS.admin].sort()).toEqual(Object.keys(PERMISSIONS).sort());
  });

  it('gives every role reading, and nothing a viewer can change', () => {
    for (const role of ROLES) expect(can(role, 'studio:read')).toBe(true);
    expect(ROLE_PERMISSIONS.viewer).toEqual(['studio:read']);
  });

  it('knows its roles', () => {
    expect(ROLES.every(isRole)).toBe(true);
    for (const value of ['root', 'Admin', '', null, 3]) expect(isRole(value)).toBe(false);
  });
});

describe('docs/security.md', () => {
  it('prints the permission table of the code', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/security.md'), 'utf8');
    const lines = doc.split('\n');
    const start = lines.findIndex((line) => line.startsWith('| permission | what it allows |'));
    const end = lines.findIndex((line, i) => i > start && line.trim() === '');
    const columns = (lines[start] ?? '')
      .split('|')
      .map((c) => c.trim())
      .slice(3, -1);
    expect(columns).toEqual([...ROLES]);
    const printed: Record<string, Role[]> = {};
    for (const line of lines.slice(start + 2, end)) {
      const match = /^\| `([a-z:-]+)` \| ([^|]+) \|(.*)\|$/.exec(line);
      expect(match).not.toBeNull();
      const marks = (match?.[3] ?? '').split('|').map((c) => c.trim());
      printed[match?.[1] ?? ''] = ROLES.filter((_, i) => marks[i] === '✓');
      expect(match?.[2]?.trim()).toBe(PERMISSIONS[match?.[1] as Permission]);
    }
    expect(printed).toEqual(TABLE);
  });
});
