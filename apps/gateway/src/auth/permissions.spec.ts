import { can, isRole, PERMISSIONS, ROLE_PERMISSIONS, ROLES, type Permission, type Role } from './permissions';

/** The permission table as docs/security.md prints it: a change to either must change this test. */
const TABLE: Record<Permission, readonly Role[]> = {
  'studio:read': ['viewer', 'curator', 'red-teamer', 'operator', 'admin'],
  'contexts:write': ['curator', 'admin'],
  'datasets:curate': ['curator', 'admin'],
  'models:query': ['curator', 'red-teamer', 'operator', 'admin'],
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
