import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectMongo, type MongoDatabase } from '@studio/mongo';
import { AUDIT_RUNS, DEFAULT_HYPERPARAMETERS, TRAINING_RUNS, type AuditRunRecord, type TrainingRunRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { describeWithServers, uniqueName } from '@studio/testing';
import { TEST_ADMIN_API_KEY, type TestRole } from './harness/keys';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type CallAs, type HttpAnswer } from './harness/stack';

/**
 * Identity and access at the gateway, against the real services on the real servers: every
 * route refuses a request without a valid credential (401); each role gets exactly the
 * permissions of the table on every route the gateway has (enumerated from Nest's metadata, so a
 * new route is covered without anyone listing it); tenant A's key finds none of tenant B's
 * resources (404); a revoked key stops at once; every key change is in the audit log; the
 * per-tenant limits answer 429 with Retry-After.
 */
const SERVICES = ['gateway', 'framer', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
const A = 'acme';
const B = 'globex';
const POLICY = readFileSync(join(WORKSPACE_ROOT, 'examples/northwind-conduct/policy.md'), 'utf8');
const RUNS_PER_MINUTE = 3;
const UPLOADS_PER_MINUTE = 2;

type Role = TestRole;
const ROLES: readonly Role[] = ['viewer', 'curator', 'red-teamer', 'operator', 'admin'];

/** The permission table (docs/security.md; apps/gateway/src/auth/permissions.ts): which roles hold each permission. */
const TABLE: Record<string, readonly Role[]> = {
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
const can = (role: Role, permission: string): boolean => TABLE[permission]?.includes(role) ?? false;

/** A route of the running gateway, as its OpenAPI document lists it with what it needs (x-studio-access). */
interface GatewayRoute {
  method: string;
  /** Express-style: `/v1/runs/:runId`. */
  path: string;
  access: { kind: 'public' } | { kind: 'authenticated' } | { kind: 'permission'; permission: string } | { kind: 'undeclared' };
}

/** Every operation of the gateway's OpenAPI document, which Nest builds from the running app's controllers. */
async function routesOf(gateway: string): Promise<GatewayRoute[]> {
  const doc = (await (await fetch(`${gateway}/docs-json`)).json()) as {
    paths: Record<string, Record<string, { 'x-studio-access'?: { permission?: string; authenticated?: boolean; public?: boolean } }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]): GatewayRoute => {
      const declared = operation['x-studio-access'];
      // The probes of every service (@studio/nest's HealthController) need no credential.
      const probe = path === '/health' || path === '/ready';
      const access: GatewayRoute['access'] =
        declared?.public || probe
          ? { kind: 'public' }
          : declared?.authenticated
            ? { kind: 'authenticated' }
            : declared?.permission
              ? { kind: 'permission', permission: declared.permission }
              : { kind: 'undeclared' };
      return { method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, ':$1'), access };
    }),
  );
}

/** `studio keys ...` as a process, the way a user runs it. */
function studioKeys(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', join(WORKSPACE_ROOT, 'apps/studio/src/main.ts'), 'keys', ...args],
      {
        cwd: WORKSPACE_ROOT,
        env: { PATH: process.env['PATH'] ?? '', SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'apps/studio/tsconfig.json') },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A value for each path parameter: ids that name nothing, or B's resources where a test wants them. */
function fill(path: string, values: Record<string, string> = {}): string {
  return path.replace(/:(\w+)/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? (name === 'keyId' ? '0123456789abcdef' : `no-such-${name.toLowerCase()}`)),
  );
}

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'identity and access at the gateway', (urls) => {
  let stack: Stack;
  let routes: GatewayRoute[];
  /** Tenant B's resources, made through the gateway with B's key. */
  const theirs = { contextId: uniqueName('ctx-b'), documentId: '', datasetVersionId: '', runId: '', auditRunId: '' };

  const call = (method: string, path: string, body?: unknown, as?: CallAs, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    stack.call(method, path, body, 'gateway', headers, as);

  /** A request as it would be sent, only the status read (an event stream is not waited for). */
  async function statusOf(route: GatewayRoute, headers: Record<string, string>): Promise<number> {
    const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? '{}' : undefined;
    const res = await fetch(`${stack.url('gateway')}${fill(route.path)}`, {
      method: route.method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  }

  async function withDatabase(service: ServiceName, write: (db: MongoDatabase) => Promise<void>): Promise<void> {
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const db = await connectMongo(urls.MONGO_URL, `${stack.run}_${service}`, quiet);
    try {
      await write(db);
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    stack = await Stack.start({
      servers: urls,
      services: SERVICES,
      runtimes: [],
      tenant: A,
      prefix: 'access',
      env: (name): Record<string, string> =>
        name === 'gateway'
          ? { RATE_LIMIT_RUNS_PER_MINUTE: String(RUNS_PER_MINUTE), RATE_LIMIT_UPLOADS_PER_MINUTE: String(UPLOADS_PER_MINUTE) }
          : {},
    });
    routes = await routesOf(stack.url('gateway'));

    // Tenant B: a context, a framed document, a dataset version, a run, an audit.
    const asB: CallAs = { tenant: B, role: 'admin' };
    expect((await call('POST', '/v1/contexts', { id: theirs.contextId, name: 'Globex conduct' }, asB)).status).toBe(201);
    const upload = await call(
      'POST',
      `/v1/contexts/${theirs.contextId}/documents`,
      { filename: 'policy.md', mediaType: 'text/markdown', content: POLICY },
      asB,
    );
    expect(upload.status).toBe(202);
    theirs.documentId = String(upload.body['documentId']);
    await stack.waitFor(
      'the framer did not frame B’s document',
      async () =>
        (await call('GET', `/v1/contexts/${theirs.contextId}/documents/${theirs.documentId}/versions`, undefined, asB)).status === 200,
      60_000,
      500,
    );
    const datasetRes = await call('POST', `/v1/contexts/${theirs.contextId}/datasets`, { seed: 7 }, asB);
    expect(datasetRes.status).toBe(201);
    theirs.datasetVersionId = String(datasetRes.body['id']);
    // A run of B's and its audit, as the instructor and the auditor record them (training and
    // auditing need the model runtime, which this test does not start).
    const now = new Date().toISOString();
    const run: TrainingRunRecord = {
      id: uniqueName('run-b'),
      contextId: theirs.contextId,
      method: 'sft',
      parentAdapterId: null,
      preferenceDatasetId: null,
      datasetVersionId: theirs.datasetVersionId,
      datasetSha256: String(datasetRes.body['sha256']),
      baseModel: 'tiny',
      hyperparameters: DEFAULT_HYPERPARAMETERS,
      outputDir: join(stack.artifactDir, 'run-b'),
      state: 'requested',
      totalSteps: null,
      step: 0,
      lossCurve: [],
      adapterId: null,
      error: null,
      jobId: 'run-b',
      requestedAt: now,
      updatedAt: now,
    };
    await withDatabase('instructor', (db) => db.repository(TRAINING_RUNS).upsert(tenantId(B), run));
    theirs.runId = run.id;
    // An audit of that run, as the auditor records one.
    const report = join(stack.artifactDir, 'report-b.json');
    writeFileSync(report, JSON.stringify({ version: 'v1', verdict: 'pass', results: [], clauses: [] }));
    const audit: AuditRunRecord = {
      id: `audit-${theirs.runId}`,
      contextId: theirs.contextId,
      runId: theirs.runId,
      adapterId: 'adapter-b',
      datasetVersionId: theirs.datasetVersionId,
      items: 4,
      verdict: 'pass',
      reportJsonUri: pathToFileURL(report).href,
      reportMarkdownUri: pathToFileURL(report).href,
      createdAt: new Date().toISOString(),
      stale: null,
    };
    await withDatabase('auditor', (db) => db.repository(AUDIT_RUNS).upsert(tenantId(B), audit));
    theirs.auditRunId = audit.id;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('lists the routes of the gateway, each declaring its access; the roles hold the permissions of the table', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.filter((r) => r.access.kind === 'undeclared')).toEqual([]);
    for (const route of routes) if (route.access.kind === 'permission') expect(Object.keys(TABLE)).toContain(route.access.permission);
    for (const role of ROLES) {
      const me = await call('GET', '/v1/me', undefined, { tenant: A, role });
      expect({ role, permissions: [...(me.body['permissions'] as string[])].sort() }).toEqual({
        role,
        permissions: Object.keys(TABLE)
          .filter((p) => can(role, p))
          .sort(),
      });
    }
    console.info(`[access] ${routes.length} routes of the gateway checked`);
  });

  it('answers 401 on every route without a credential, and with a bad one, whatever x-tenant-id says', async () => {
    const bad = [
      'Bearer sk-studio-0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'Bearer not-a-key',
      'Basic YTpi',
      'Bearer eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJhY21lIn0.',
    ];
    const wrong: string[] = [];
    for (const route of routes.filter((r) => r.access.kind !== 'public')) {
      for (const authorization of [undefined, ...bad]) {
        const status = await statusOf(route, { 'x-tenant-id': A, ...(authorization ? { authorization } : {}) });
        if (status !== 401) wrong.push(`${route.method} ${route.path} with ${authorization ?? 'no credential'}: ${status}`);
      }
    }
    expect(wrong).toEqual([]);
    // The administration routes are public to the guard and check the x-admin-key themselves.
    for (const route of routes.filter((r) => r.path.startsWith('/v1/admin/'))) expect(await statusOf(route, {})).toBe(401);
  }, 120_000);

  it('gives each role exactly the permissions of the table, on every route', async () => {
    const keys = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await stack.keyFor(A, role)] as const))) as Record<
      Role,
      string
    >;
    const wrong: string[] = [];
    let checked = 0;
    for (const route of routes) {
      if (route.access.kind === 'public' || route.access.kind === 'undeclared') continue;
      for (const role of ROLES) {
        const allowed = route.access.kind === 'authenticated' || can(role, route.access.permission);
        const status = await statusOf(route, { authorization: `Bearer ${keys[role]}` });
        checked++;
        if (status === 401 || (status === 403) === allowed)
          wrong.push(`${route.method} ${route.path} as ${role}: ${status} (${allowed ? 'allowed' : 'denied'} by the table)`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(routes.filter((r) => r.access.kind !== 'public').length * ROLES.length);
    const denied = await call('POST', '/v1/keys', { name: 'x', role: 'admin' }, { tenant: A, role: 'viewer' });
    expect(denied.body).toMatchObject({ status: 403, code: 'permission_denied', permission: 'keys:manage', role: 'viewer' });
    expect(denied.type).toMatch(/^application\/problem\+json/);
  }, 180_000);

  it("finds none of tenant B's contexts, documents, datasets, runs and audits with tenant A's key (404), though B does", async () => {
    // [method, path, body, whether B finds it]: the audit of a run needs its training to have completed, and a first version has no diff.
    const paths: [string, string, unknown, boolean][] = [
      ['POST', `/v1/contexts/${theirs.contextId}/datasets`, { seed: 7 }, true],
      ['GET', `/v1/contexts/${theirs.contextId}`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/documents`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/documents/${theirs.documentId}`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/clauses`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets/${theirs.datasetVersionId}`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets/${theirs.datasetVersionId}/examples`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets/${theirs.datasetVersionId}/review`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/documents/${theirs.documentId}/versions`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/documents/${theirs.documentId}/diff?to=1`, undefined, false],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets/${theirs.datasetVersionId}/report`, undefined, true],
      ['GET', `/v1/contexts/${theirs.contextId}/datasets/${theirs.datasetVersionId}/coverage`, undefined, true],
      ['GET', `/v1/runs/${theirs.runId}`, undefined, true],
      ['GET', `/v1/runs/${theirs.runId}/audit`, undefined, false],
      ['GET', `/v1/audits/${theirs.auditRunId}`, undefined, true],
      // Feedback and preferences: the gateway asks the framer for the context in the caller's tenant first.
      ['POST', `/v1/contexts/${theirs.contextId}/feedback`, { prompt: 'May I?', answers: ['Yes.', 'No.'], choice: 1 }, false],
      ['GET', `/v1/contexts/${theirs.contextId}/preferences`, undefined, false],
      ['GET', `/v1/contexts/${theirs.contextId}/preference-datasets`, undefined, false],
      ['GET', `/v1/contexts/${theirs.contextId}/resolutions`, undefined, false],
    ];
    for (const [method, path, body] of paths) {
      const mine = await call(method, path, body, { tenant: A, role: 'admin' }, { 'x-tenant-id': B });
      expect({ path, status: mine.status }).toEqual({ path, status: 404 });
      expect(JSON.stringify(mine.body)).not.toContain('Globex');
    }
    // A's list of contexts does not hold B's.
    const listed = await call('GET', '/v1/contexts', undefined, { tenant: A, role: 'viewer' });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(theirs.contextId);
    expect((await call('GET', '/v1/contexts', undefined, { tenant: B, role: 'viewer' })).text).toContain(theirs.contextId);
    for (const [method, path, body, found] of paths.filter(([, , , found]) => found)) {
      const own = await call(method, path, body, { tenant: B, role: 'admin' });
      expect({ path, status: own.status, found }).toEqual({ path, status: 200, found: true });
    }
  }, 60_000);

  it('stops a revoked key at once, and a role change takes effect on the next request', async () => {
    const created = await call('POST', '/v1/keys', { name: 'short-lived', role: 'viewer' }, { tenant: A, role: 'admin' });
    expect(created.status).toBe(201);
    const key = { authorization: `Bearer ${String(created.body['key'])}` };
    const id = String(created.body['id']);
    expect((await call('GET', '/v1/me', undefined, undefined, key)).body).toMatchObject({ tenant: A, role: 'viewer', via: 'api-key' });
    expect((await call('GET', `/v1/runs/${theirs.runId}/audit`, undefined, undefined, key)).status).toBe(404);
    expect((await call('POST', '/v1/contexts', { id: 'x', name: 'x' }, undefined, key)).status).toBe(403);
    expect((await call('PATCH', `/v1/keys/${id}`, { role: 'curator' }, { tenant: A, role: 'admin' })).status).toBe(200);
    expect((await call('GET', '/v1/me', undefined, undefined, key)).body['role']).toBe('curator');
    expect((await call('DELETE', `/v1/keys/${id}`, undefined, { tenant: A, role: 'admin' })).status).toBe(200);
    const after = await call('GET', '/v1/me', undefined, undefined, key);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(String(after.body['detail'])).toMatch(/was revoked/);
    // B cannot touch A's keys.
    expect((await call('DELETE', `/v1/keys/${id}`, undefined, { tenant: B, role: 'admin' })).status).toBe(404);
  });

  it('records every key change in the audit log: who, what, when, before and after; only the tenant’s own admins read it', async () => {
    const admin: CallAs = { tenant: A, role: 'admin' };
    const created = await call('POST', '/v1/keys', { name: 'audited', role: 'operator' }, admin);
    const id = String(created.body['id']);
    await call('PATCH', `/v1/keys/${id}`, { role: 'red-teamer' }, admin);
    await call('DELETE', `/v1/keys/${id}`, undefined, admin);
    const log = await call('GET', '/v1/audit-log?limit=1000', undefined, admin);
    expect(log.status).toBe(200);
    const entries = log.body['entries'] as {
      tenant: string;
      at: string;
      action: string;
      target: string;
      actor: { subject: string; via: string };
      before: Record<string, unknown> | null;
      after: Record<string, unknown> | null;
    }[];
    const ofKey = entries.filter((e) => e.target === `key:${id}`);
    expect(ofKey.map((e) => e.action)).toEqual(['key.revoked', 'key.role-changed', 'key.created']);
    expect(ofKey[2]).toMatchObject({ before: null, after: { id, role: 'operator', tenant: A } });
    expect(ofKey[1]).toMatchObject({ before: { role: 'operator' }, after: { role: 'red-teamer' } });
    expect(ofKey[0]).toMatchObject({ before: { revokedAt: null }, after: { revokedAt: expect.any(String) } });
    const me = (await call('GET', '/v1/me', undefined, admin)).body['subject'];
    for (const entry of ofKey) {
      expect(entry.actor).toMatchObject({ subject: me, via: 'api-key' });
      expect(Date.parse(entry.at)).not.toBeNaN();
    }
    // Every key of A this run made is in A's log, each created once (the bootstrap ones by the platform admin).
    const keys = (await call('GET', '/v1/keys', undefined, admin)).body['keys'] as { id: string; revokedAt: string | null }[];
    const createdIds = entries.filter((e) => e.action === 'key.created').map((e) => e.target);
    expect(createdIds.sort()).toEqual(keys.map((k) => `key:${k.id}`).sort());
    expect(entries.filter((e) => e.action === 'key.revoked').length).toBe(keys.filter((k) => k.revokedAt !== null).length);
    expect(entries.some((e) => e.actor.subject === 'platform-admin' && e.actor.via === 'admin-key')).toBe(true);
    expect(JSON.stringify(entries)).not.toMatch(/secretSha256|sk-studio-/);
    expect(entries.every((e) => e.tenant === A)).toBe(true);
    expect((await call('GET', '/v1/audit-log', undefined, { tenant: A, role: 'operator' })).status).toBe(403);
  });

  it('limits uploads and run requests per tenant: 429 with Retry-After, other tenants unaffected', async () => {
    const tenant = uniqueName('limited');
    const curator: CallAs = { tenant, role: 'curator' };
    const operator: CallAs = { tenant, role: 'operator' };
    const upload = () =>
      call('POST', '/v1/contexts/ctx-1/documents', { filename: 'p.md', mediaType: 'text/markdown', content: POLICY }, curator);
    const uploads = [];
    for (let i = 0; i <= UPLOADS_PER_MINUTE; i++) uploads.push(await upload());
    expect(uploads.map((r) => r.status)).toEqual([...Array(UPLOADS_PER_MINUTE).fill(202), 429]);
    const limited = uploads.at(-1) as HttpAnswer;
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterSeconds: retryAfter });
    const runs = [];
    for (let i = 0; i <= RUNS_PER_MINUTE; i++)
      runs.push((await call('POST', '/v1/contexts/ctx-1/runs', { datasetVersionId: 'nope', baseModel: 'tiny' }, operator)).status);
    expect(runs.at(-1)).toBe(429);
    expect(runs.slice(0, RUNS_PER_MINUTE)).not.toContain(429);
    // Another tenant's window is its own.
    expect(
      (
        await call(
          'POST',
          '/v1/contexts/ctx-1/runs',
          { datasetVersionId: 'nope', baseModel: 'tiny' },
          { tenant: uniqueName('other'), role: 'operator' },
        )
      ).status,
    ).not.toBe(429);
  });

  it('manages keys with the CLI (studio keys): a first key with the administration key, then list, role and revoke with it', async () => {
    const tenant = uniqueName('cli');
    const studio = (...argv: string[]) => studioKeys([...argv, '--gateway', stack.url('gateway')]);
    const first = await studio('create', '--name', 'ops', '--role', 'admin', '--tenant', tenant, '--admin-key', TEST_ADMIN_API_KEY);
    expect(first.code).toBe(0);
    const admin = first.stdout.trim();
    expect(admin).toMatch(/^sk-studio-[0-9a-f]{16}_/);
    const ci = await studio('create', '--name', 'ci', '--role', 'viewer', '--key', admin);
    const ciKey = ci.stdout.trim();
    const ciId = /^sk-studio-([0-9a-f]{16})_/.exec(ciKey)?.[1] ?? '';
    const listed = await studio('list', '--key', admin);
    expect(listed.stdout).toMatch(new RegExp(`^${ciId}\\s+ci\\s+viewer\\s`, 'm'));
    expect(listed.stdout).not.toContain(ciKey.split('_').slice(1).join('_'));
    expect((await studio('role', ciId, 'operator', '--key', admin)).stdout).toBe(`key ${ciId} "ci" now has role operator\n`);
    expect((await call('GET', '/v1/me', undefined, undefined, { authorization: `Bearer ${ciKey}` })).body['role']).toBe('operator');
    expect((await studio('revoke', ciId, '--key', admin)).code).toBe(0);
    expect((await call('GET', '/v1/me', undefined, undefined, { authorization: `Bearer ${ciKey}` })).status).toBe(401);
    const denied = await studio('list', '--key', ciKey);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/the gateway answered 401: the API key [0-9a-f]{16} was revoked/);
    const log = await call('GET', '/v1/audit-log', undefined, undefined, { authorization: `Bearer ${admin}` });
    expect((log.body['entries'] as { action: string }[]).map((e) => e.action)).toEqual([
      'key.revoked',
      'key.role-changed',
      'key.created',
      'key.created',
    ]);
  }, 120_000);
});
