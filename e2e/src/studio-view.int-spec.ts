import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `studio view` as a user starts it: the real CLI as a child process, the whole studio in that one
 * process on the embedded profile (the server variables point at closed ports, to show that nothing
 * reads them), the real model runtime (tiny model). Signs in with the key it prints, uploads the
 * example policy, sees its clauses, trains an adapter through the in-process queue; stops on SIGINT
 * and starts again on the same data folder. Skipped with a reason when the model runtime is not
 * installed locally, failed in CI.
 */
const ROOT = resolve(__dirname, '../..');
const RUNTIME = join(ROOT, 'apps/model-runtime/.venv/bin/studio-runtime');
const POLICY = join(ROOT, 'examples/northwind-conduct/policy.md');
const haveRuntime = existsSync(RUNTIME);
const inCi = process.env['CI'] === 'true';

interface Studio {
  child: ChildProcess;
  api: string;
  key: string;
  output: () => string;
}

/** Starts `studio view` and waits for the lines with the URL and the admin key. */
async function startStudio(dataDir: string): Promise<Studio> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SWC_NODE_PROJECT: join(ROOT, 'apps/studio/tsconfig.json'),
    STUDIO_ROOT: ROOT,
    // Servers that do not exist: the embedded profile must neither need nor read them.
    KAFKA_BROKERS: '127.0.0.1:1',
    MONGO_URL: 'mongodb://127.0.0.1:1',
    REDIS_URL: 'redis://127.0.0.1:1',
    QDRANT_URL: 'http://127.0.0.1:1',
  };
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, 'apps/studio/src/main.ts'), 'view', '--port', '0', '--data-dir', dataDir],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const deadline = Date.now() + 150_000;
  for (;;) {
    const api = /API:\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)?.[1];
    const key = /admin key:\s+(sk-studio-\S+)/.exec(out)?.[1];
    if (api && key) return { child, api, key, output: () => out };
    if (child.exitCode !== null) throw new Error(`studio view exited with ${child.exitCode} before it was ready:\n${out.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`studio view printed no URL and key within 150 s:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Sends SIGINT and resolves with the exit code. */
async function stopStudio(studio: Studio): Promise<number | null> {
  if (studio.child.exitCode !== null) return studio.child.exitCode;
  const exited = new Promise<number | null>((done) => studio.child.once('exit', (code) => done(code)));
  studio.child.kill('SIGINT');
  return exited;
}

async function call(studio: Studio, method: string, path: string, body?: unknown, key: string | null = studio.key) {
  const response = await fetch(`${studio.api}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: response.status, headers: response.headers, body: json };
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface Version {
  status: string;
  clauseCount: number | null;
  statementCount: number | null;
}

describe('studio view (the studio in one process, embedded profile)', () => {
  if (!haveRuntime && inCi) {
    it('needs the model runtime', () => {
      throw new Error(`the model runtime is not installed (${RUNTIME} is missing): CI must run scripts/setup.sh first`);
    });
    return;
  }
  if (!haveRuntime) {
    it.skip(`skipped: the model runtime is not installed (${RUNTIME} is missing; run "bash scripts/setup.sh")`, () => undefined);
    return;
  }

  let dataDir: string;
  let studio: Studio | null = null;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'studio-view-'));
  });
  afterAll(async () => {
    if (studio) await stopStudio(studio);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the API behind the printed key: upload, clauses, a trained adapter; stops on Ctrl-C and keeps the data', async () => {
    studio = await startStudio(dataDir);
    const first = studio;

    // The printed key is a local admin's; no key, or a wrong one, is 401.
    const me = await call(first, 'GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenant: 'local', role: 'admin', via: 'api-key' });
    expect(me.body['permissions']).toEqual(expect.arrayContaining(['contexts:write', 'runs:operate', 'keys:manage']));
    const anonymous = await call(first, 'GET', '/me', undefined, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call(first, 'POST', '/contexts', { id: 'northwind', name: 'Northwind' }, null)).status).toBe(401);
    expect((await call(first, 'GET', '/me', undefined, `${first.key.slice(0, -4)}AAAA`)).status).toBe(401);
    const log = await call(first, 'GET', '/audit-log');
    expect(log.status).toBe(200);
    expect(JSON.stringify(log.body)).toContain('studio view (local admin)');
    const viewer = await call(first, 'POST', '/keys', { name: 'dashboard', role: 'viewer' });
    expect(viewer.status).toBe(201);
    const viewerKey = String(viewer.body['key']);

    // A context and the example policy: framed by the in-process framer, indexed by the ontology.
    const context = await call(first, 'POST', '/contexts', { id: 'northwind', name: 'Northwind Dynamics' });
    expect(context.status).toBe(201);
    const upload = await call(first, 'POST', '/contexts/northwind/documents', {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: readFileSync(POLICY, 'utf8'),
    });
    expect(upload.status).toBe(202);
    const documentId = String(upload.body['documentId']);
    const framed = await until(
      'the example policy framed',
      async () => {
        const versions = await call(first, 'GET', `/contexts/northwind/documents/${documentId}/versions`);
        const current = (versions.body['versions'] as Version[] | undefined)?.[0];
        return current?.status === 'framed' ? current : null;
      },
      60_000,
    );
    expect(framed.clauseCount).toBeGreaterThan(20);
    expect(framed.statementCount).toBeGreaterThan(20);
    // The clause browser: every clause of the document, with its numbering, text and statements.
    const clauses = await call(first, 'GET', `/contexts/northwind/clauses?documentId=${documentId}`);
    expect(clauses.status).toBe(200);
    const listed = clauses.body['clauses'] as { numbering: string; text: string; statements: { kind: string }[] }[];
    expect(clauses.body['total']).toBe(framed.clauseCount);
    expect(listed).toHaveLength(framed.clauseCount as number);
    expect(listed.every((c) => c.numbering.length > 0 && c.text.length > 0)).toBe(true);
    expect(listed.some((c) => c.statements.some((st) => st.kind === 'obligation'))).toBe(true);
    expect((await call(first, 'GET', '/contexts/northwind/clauses', undefined, null)).status).toBe(401);

    // A dataset version, and a short training run: the instructor queues it, the in-process worker
    // runs `studio-runtime train`, and the queue's job events bring the adapter back to the instructor.
    const dataset = await call(first, 'POST', '/contexts/northwind/datasets', {});
    expect([200, 201]).toContain(dataset.status);
    const datasetVersionId = String(dataset.body['id']);
    const started = await until(
      'a training run accepted (once the dataset and the clause index have arrived)',
      async () => {
        const run = await call(first, 'POST', '/contexts/northwind/runs', {
          datasetVersionId,
          baseModel: 'tiny',
          hyperparameters: { max_steps: 2 },
        });
        if (run.status === 409) return null;
        return run;
      },
      150_000,
      7_000, // within the runs' rate limit (10 a minute)
    );
    expect(started.status).toBe(202);
    const runId = String(started.body['id']);
    const completed = await until(
      'the training run completed',
      async () => {
        const run = await call(first, 'GET', `/runs/${runId}`);
        if (run.body['state'] === 'failed') throw new Error(`the run failed: ${JSON.stringify(run.body['error'])}`);
        return run.body['state'] === 'completed' ? run.body : null;
      },
      150_000,
    );
    expect(completed['adapterId']).toEqual(expect.any(String));
    expect((completed['lossCurve'] as unknown[]).length).toBeGreaterThanOrEqual(1);

    // Ctrl-C stops everything cleanly.
    const code = await stopStudio(first);
    expect({ code, output: code === 0 ? '' : first.output().slice(-3000) }).toEqual({ code: 0, output: '' });
    expect(first.output()).toMatch(/SIGINT: stopping the studio…\s+stopped/);
    studio = null;

    // Started again on the same folder: the data and the keys are there; the admin key printed before is revoked.
    studio = await startStudio(dataDir);
    const second = studio;
    expect(second.key).not.toBe(first.key);
    const oldAdmin = await call(second, 'GET', '/me', undefined, first.key);
    expect(oldAdmin.status).toBe(401);
    expect(JSON.stringify(oldAdmin.body)).toContain('revoked');
    expect((await call(second, 'GET', '/me', undefined, viewerKey)).body).toMatchObject({ role: 'viewer', name: 'dashboard' });
    const entries = (await call(second, 'GET', '/audit-log?limit=50')).body['entries'] as { action: string; target: string }[];
    const firstKeyId = /^sk-studio-([0-9a-f]{16})_/.exec(first.key)?.[1];
    expect(entries.map((e) => `${e.action} ${e.target}`)).toEqual(
      expect.arrayContaining([`key.revoked key:${firstKeyId}`, `key.created key:${firstKeyId}`]),
    );
    const again = await call(second, 'GET', `/contexts/northwind/documents/${documentId}/versions`);
    expect(again.status).toBe(200);
    expect((again.body['versions'] as Version[])[0]).toMatchObject({ status: 'framed', clauseCount: framed.clauseCount });
    const run = await call(second, 'GET', `/runs/${runId}`);
    expect(run.body).toMatchObject({ state: 'completed', adapterId: completed['adapterId'] });
    const secondCode = await stopStudio(second);
    expect({ code: secondCode, output: secondCode === 0 ? '' : second.output().slice(-3000) }).toEqual({ code: 0, output: '' });
    studio = null;
  }, 600_000);
});
