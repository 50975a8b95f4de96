/**
 * Who may do what, in one table. A credential (API key or OIDC token) carries one tenant and one
 * role; a route declares the permission it needs with `@Requires(...)`, and the guard answers 403
 * when the caller's role lacks it. The docs (docs/security.md) print this table; a table-driven
 * test checks every route against it.
 */
export const ROLES = ['viewer', 'curator', 'red-teamer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Read contexts, documents, clauses, dataset versions and their reports, preferences and their datasets, runs, audits. */
  'studio:read': 'read contexts, documents, clauses, datasets, preferences, runs and audits',
  /** Create or replace a context's settings, upload documents. */
  'contexts:write': 'create contexts and change their settings; upload documents',
  /** Generate dataset versions; approve, edit or reject examples in the review queue. */
  'datasets:curate': 'generate dataset versions and review their examples',
  /** Compare base and aligned answers on a prompt; chat with a deployed model. */
  'models:query': 'compare answers and chat with deployed models',
  /** Judge two answers (pick, edit, explain, tag values): a human preference. */
  'feedback:submit': 'judge answers: submit human feedback as preferences',
  /** Publish the next preference dataset version of a context (what a DPO round trains on). */
  'preferences:publish': 'publish preference dataset versions',
  /** Write and replay attacks, record red-team findings. */
  'redteam:write': 'write, replay and judge attacks',
  /** Start and cancel training runs, request audits. */
  'runs:operate': 'start and cancel training runs and request audits',
  /** Mark an audited adapter as a context's deployed model. */
  'deployments:write': "deploy an audited adapter as a context's model",
  /** Deploy an adapter whose audit did not PASS, with a recorded reason. */
  'deployments:override': 'deploy an adapter without a PASS verdict (with a reason)',
  /** Create, list and revoke the tenant's API keys. */
  'keys:manage': "create, list and revoke the tenant's API keys",
  /** Read the tenant's audit log. */
  'audit-log:read': "read the tenant's audit log",
} as const;
export type Permission = keyof typeof PERMISSIONS;

const READ: readonly Permission[] = ['studio:read'];

/** Each role's permissions. Admin holds every permission. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: READ,
  curator: [...READ, 'contexts:write', 'datasets:curate', 'models:query', 'feedback:submit', 'preferences:publish'],
  'red-teamer': [...READ, 'models:query', 'feedback:submit', 'preferences:publish', 'redteam:write'],
  operator: [...READ, 'models:query', 'preferences:publish', 'runs:operate', 'deployments:write'],
  admin: Object.keys(PERMISSIONS) as Permission[],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
