import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DocumentDiffV1, DocumentVersionsV1 } from '@studio/contracts';
import { connectMongo } from '@studio/mongo';
import { AUDIT_RUNS, type AuditRunRecord, type DatasetVersionRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { issueKey, TEST_ADMIN_API_KEY } from './harness/keys';
import {
  E2E_SERVICE_TOKEN,
  freePort,
  SERVICE_TOKEN_HEADER,
  SERVICES,
  ServiceProcess,
  serviceHeaders,
  serviceRunEnv,
  type ServiceName,
} from './harness/service-process';

/**
 * Boots every service as its own process, the way `nx serve` and the container images do,
 * against the real servers: configuration errors, /health and /ready, a document travelling
 * gateway → Kafka → framer → Mongo, and graceful SIGTERM.
 */
describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'], 'services as processes', (urls) => {
  const run = uniqueName('svc').replace(/-/g, '_');
  const processes: ServiceProcess[] = [];
  const artifactDir = mkdtempSync(join(tmpdir(), 'studio-svc-artifacts-'));

  function envFor(name: ServiceName, port: number): Record<string, string> {
    const env: Record<string, string> = serviceRunEnv(run, name, port, urls.KAFKA_BROKERS);
    Object.assign(env, { MONGO_URL: urls.MONGO_URL, MONGO_DB: `${run}_${name.replace('-', '_')}` });
    if (name === 'instructor' || name === 'auditor' || name === 'framer' || name === 'gateway') env['REDIS_URL'] = urls.REDIS_URL;
    if (name === 'gateway') env['ADMIN_API_KEY'] = TEST_ADMIN_API_KEY;
    if (name !== 'gateway') env['STUDIO_ARTIFACT_DIR'] = artifactDir;
    // Read lazily, on the first indexing or audit: nothing listens there and nothing needs to here
    // (port 9 would be refused at start: fetch blocks it).
    if (name === 'ontology' || name === 'auditor')
      Object.assign(env, { LLM_BASE_URL: 'http://127.0.0.1:47/v1', QDRANT_URL: 'http://127.0.0.1:47' });
    return env;
  }

  function start(name: ServiceName, env: Record<string, string>): ServiceProcess {
    const service = new ServiceProcess(name, env);
    processes.push(service);
    return service;
  }

  afterAll(() => {
    for (const p of processes) p.kill('SIGKILL');
    rmSync(artifactDir, { recursive: true, force: true });
  });

  const missing: [ServiceName, string][] = [
    ['gateway', 'KAFKA_BROKERS'],
    ['framer', 'MONGO_URL'],
    ['ontology', 'KAFKA_BROKERS'],
    ['instructor', 'REDIS_URL'],
    ['reward-model', 'MONGO_URL'],
    ['auditor', 'MONGO_URL'],
  ];

  it('each service exits 1 naming a missing required variable, and a bad one', async () => {
    const started = missing.map(([name, variable]) => {
      const env = envFor(name, 1);
      delete env[variable];
      if (name === 'gateway') env['PORT'] = 'eighty';
      return { name, variable, service: start(name, env) };
    });
    for (const { name, variable, service } of started) {
      const exit = await service.exitWithin(30_000);
      expect({ name, ...exit }).toEqual({ name, code: 1, signal: null });
      expect(service.stderr).toContain(`${name}: invalid configuration`);
      expect(service.stderr).toContain(`  - ${variable} is required (`);
      expect(service.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(started[0]?.service.stderr).toContain('PORT must be an integer between 1 and 65535 (got "eighty")');
  });

  it('an internal service exits 1 without a SERVICE_TOKEN of at least 32 characters, the gateway too (it sends it)', async () => {
    const cases: [ServiceName, string | undefined][] = [
      ['framer', undefined],
      ['instructor', 'too-short'],
      ['gateway', undefined],
    ];
    const started = cases.map(([name, token]) => {
      const env = envFor(name, 1);
      if (token === undefined) delete env['SERVICE_TOKEN'];
      else env['SERVICE_TOKEN'] = token;
      return { name, token, service: start(name, env) };
    });
    for (const { name, token, service } of started) {
      expect(await service.exitWithin(30_000)).toEqual({ code: 1, signal: null });
      expect(service.stderr).toContain(
        token === undefined ? '  - SERVICE_TOKEN is required (' : '  - SERVICE_TOKEN must be at least 32 characters',
      );
      expect({ name, secretEchoed: service.stderr.includes('too-short') }).toEqual({ name, secretEchoed: false });
    }
  });

  it('exits 1 naming a dependency URL on a port fetch refuses', async () => {
    const service = start('auditor', { ...envFor('auditor', 1), LLM_BASE_URL: 'http://127.0.0.1:4190/v1' });
    expect(await service.exitWithin(30_000)).toEqual({ code: 1, signal: null });
    expect(service.stderr).toContain('  - LLM_BASE_URL must not use port 4190: fetch refuses it');
  });

  describe('all six running', () => {
    const running = new Map<ServiceName, { service: ServiceProcess; url: string }>();
    /** An admin API key of tenant acme, for the gateway. */
    let acme: { authorization: string };

    beforeAll(async () => {
      const ports = new Map<ServiceName, number>();
      for (const name of SERVICES) ports.set(name, await freePort());
      const urlOf = (name: ServiceName) => `http://127.0.0.1:${ports.get(name) as number}`;
      for (const name of SERVICES) {
        const env = envFor(name, ports.get(name) as number);
        // The gateway forwards reads to the services that own the data.
        if (name === 'gateway')
          Object.assign(env, {
            FRAMER_URL: urlOf('framer'),
            ONTOLOGY_URL: urlOf('ontology'),
            INSTRUCTOR_URL: urlOf('instructor'),
            AUDITOR_URL: urlOf('auditor'),
          });
        running.set(name, { service: start(name, env), url: urlOf(name) });
      }
      for (const [name, { service, url }] of running) {
        await eventually(
          async () => {
            if (!service.running) throw new Error(`${name} exited\n${service.tail()}`);
            return (await fetch(`${url}/ready`)).status === 200;
          },
          60_000,
          250,
        ).catch((err: Error) => {
          throw new Error(`${name} did not become ready: ${err.message}\n${service.tail()}`);
        });
      }
      acme = { authorization: `Bearer ${await issueKey(urlOf('gateway'), 'acme', 'admin')}` };
    }, 90_000);

    it('answers /health and /ready on every service, with its dependencies checked', async () => {
      for (const [name, { url }] of running) {
        const health = await fetch(`${url}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'ok', service: name });
        const ready = (await (await fetch(`${url}/ready`)).json()) as { status: string; checks: Record<string, { status: string }> };
        expect(ready.status).toBe('ready');
        const expected =
          name === 'gateway'
            ? ['dependencies', 'events', 'mongo', 'redis']
            : name === 'instructor'
              ? ['events', 'mongo', 'redis']
              : name === 'auditor' || name === 'ontology' || name === 'reward-model'
                ? ['dependencies', 'events', 'mongo']
                : ['events', 'mongo'];
        expect(Object.keys(ready.checks).sort()).toEqual(expected);
      }
    });

    it('refuses a direct request to an internal service without the service token, whatever tenant it claims', async () => {
      const contextId = uniqueName('ctx');
      // What an attacker on the network would try: a forged tenant, straight to the services that own the data.
      const attempts: [ServiceName, string, string, unknown][] = [
        ['framer', 'PUT', `/v1/contexts/${contextId}`, { name: 'Victim policies' }],
        ['framer', 'GET', `/v1/contexts/${contextId}/documents`, undefined],
        ['framer', 'GET', `/v1/contexts/${contextId}/clauses`, undefined],
        ['instructor', 'GET', `/v1/contexts/${contextId}/runs`, undefined],
        ['instructor', 'POST', `/v1/contexts/${contextId}/runs`, {}],
        ['auditor', 'GET', '/v1/audits/audit-1', undefined],
        ['auditor', 'GET', '/v1/runs/run-1/audit', undefined],
        ['ontology', 'POST', `/v1/contexts/${contextId}/retrieve`, {}],
        ['framer', 'DELETE', '/v1/tenant-data', undefined],
        ['instructor', 'DELETE', '/v1/tenant-data', undefined],
        ['auditor', 'DELETE', '/v1/tenant-data', undefined],
        ['ontology', 'DELETE', '/v1/tenant-data', undefined],
      ];
      const send = (name: ServiceName, method: string, path: string, body: unknown, headers: Record<string, string>) =>
        fetch(`${running.get(name)?.url}${path}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const wrongTokens: Record<string, string>[] = [
        {},
        { [SERVICE_TOKEN_HEADER]: 'x'.repeat(64) },
        { [SERVICE_TOKEN_HEADER]: E2E_SERVICE_TOKEN.slice(0, -1) },
      ];
      for (const [name, method, path, body] of attempts) {
        for (const wrong of wrongTokens) {
          const res = await send(name, method, path, body, { 'x-tenant-id': 'victim', ...wrong });
          expect({ name, method, path, status: res.status }).toEqual({ name, method, path, status: 401 });
          expect(((await res.json()) as { message: string }).message).toMatch(/x-studio-service-token/);
        }
      }
      // With the token the same requests reach the service: the context is created, reads answer, invalid bodies are the service's 400.
      const expected: Record<string, number> = {
        [`framer PUT /v1/contexts/${contextId}`]: 201,
        [`framer GET /v1/contexts/${contextId}/documents`]: 200,
        [`framer GET /v1/contexts/${contextId}/clauses`]: 200,
        [`instructor GET /v1/contexts/${contextId}/runs`]: 200,
        [`instructor POST /v1/contexts/${contextId}/runs`]: 400,
        ['auditor GET /v1/audits/audit-1']: 404,
        ['auditor GET /v1/runs/run-1/audit']: 404,
        [`ontology POST /v1/contexts/${contextId}/retrieve`]: 400,
      };
      for (const [name, method, path, body] of attempts.filter(([, method]) => method !== 'DELETE')) {
        const res = await send(name, method, path, body, serviceHeaders('victim'));
        expect({ call: `${name} ${method} ${path}`, status: res.status }).toEqual({
          call: `${name} ${method} ${path}`,
          status: expected[`${name} ${method} ${path}`],
        });
      }
    });

    it('serves the OpenAPI document of the gateway', async () => {
      const doc = (await (await fetch(`${running.get('gateway')?.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/v1/contexts/{contextId}/documents');
    });

    it('carries an uploaded document from the gateway over Kafka into the framer', async () => {
      const gateway = running.get('gateway')?.url;
      const framer = running.get('framer')?.url;
      const contextId = uniqueName('ctx');
      const res = await fetch(`${gateway}/v1/contexts/${contextId}/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...acme },
        body: JSON.stringify({
          filename: 'gifts.md',
          mediaType: 'text/markdown',
          content: '# Gifts\nDecline gifts worth more than 50 EUR.',
        }),
      });
      expect(res.status).toBe(202);
      const { documentId, eventId } = (await res.json()) as { documentId: string; eventId: string };

      const stored = await eventually(async () => {
        const r = await fetch(`${framer}/v1/contexts/${contextId}/documents/${documentId}`, { headers: serviceHeaders('acme') });
        const body = r.status === 200 ? ((await r.json()) as Record<string, unknown>) : null;
        return body?.['status'] === 'framed' ? body : null;
      }, 30_000);
      expect(stored).toMatchObject({
        id: documentId,
        contextId,
        filename: 'gifts.md',
        status: 'framed',
        clauseCount: 1,
        uploadEventId: eventId,
      });

      // tenant-scoped: another tenant does not see it
      const other = await fetch(`${framer}/v1/contexts/${contextId}/documents/${documentId}`, { headers: serviceHeaders('globex') });
      expect(other.status).toBe(404);
    });

    it('frames a second version of a document: versions and clause diff through the gateway, the audit of the old dataset marked stale, the next dataset incremental', async () => {
      const gateway = running.get('gateway')?.url as string;
      const contextId = uniqueName('ctx');
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${gateway}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...acme },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const v1 = [
        '# Gifts',
        '',
        '1. Employees must not accept cash gifts from suppliers.',
        '2. Employees may accept gifts worth up to 50 EUR without approval.',
        '3. Employees must record every gift in the Gifts Register.',
      ].join('\n');
      const v2 = [
        '# Gifts',
        '',
        '1. Employees must not accept cash gifts from suppliers.',
        '2. Employees must decline any gift offered during a tender.',
        '3. Employees may accept gifts worth up to 25 EUR without approval.',
        '4. Employees must record every gift in the Gifts Register.',
      ].join('\n');
      expect((await api('POST', '/v1/contexts', { id: contextId, name: 'Gifts' })).status).toBe(201);
      const upload = async (content: string) =>
        (await api('POST', `/v1/contexts/${contextId}/documents`, { filename: 'gifts.md', mediaType: 'text/markdown', content })).body[
          'documentId'
        ] as string;
      const versionsOf = async (documentId: string) => {
        const r = await api('GET', `/v1/contexts/${contextId}/documents/${documentId}/versions`);
        return r.status === 200 ? (r.body as unknown as DocumentVersionsV1) : null;
      };

      const documentId = await upload(v1);
      await eventually(async () => (await versionsOf(documentId))?.currentVersion === 1, 30_000);
      const first = await api('POST', `/v1/contexts/${contextId}/datasets`, { seed: 3 });
      expect(first.status).toBe(201);
      const dataset = first.body as unknown as DatasetVersionRecord;
      expect(dataset.incremental).toBeNull();

      // An audit of a model trained on that dataset, as the auditor records it.
      const report = join(artifactDir, `report-${contextId}.json`);
      // No items and no clauses: the JSON answer's outcome buckets and per-clause table (auditReportView) are empty.
      writeFileSync(report, JSON.stringify({ version: 'v1', verdict: 'pass', results: [], clauses: [] }));
      const auditorDb = await connectMongo(urls.MONGO_URL, `${run}_auditor`, {
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      });
      const audit: AuditRunRecord = {
        id: `audit-${contextId}`,
        contextId,
        runId: 'run-1',
        adapterId: 'adapter-1',
        datasetVersionId: dataset.id,
        items: 4,
        verdict: 'pass',
        reportJsonUri: pathToFileURL(report).href,
        reportMarkdownUri: pathToFileURL(report).href,
        createdAt: new Date().toISOString(),
        stale: null,
      };
      try {
        await auditorDb.repository(AUDIT_RUNS).upsert(tenantId('acme'), audit);
      } finally {
        await auditorDb.close();
      }
      expect((await api('GET', `/v1/audits/${audit.id}`)).body['stale']).toBeNull();

      expect(await upload(v2)).toBe(documentId);
      const versions = await eventually(async () => {
        const v = await versionsOf(documentId);
        return v?.currentVersion === 2 ? v : null;
      }, 30_000);
      expect(versions.versions.map((v) => [v.version, v.current, v.changes])).toEqual([
        [2, true, { unchanged: 1, moved: 1, changed: 1, added: 1, removed: 0 }],
        [1, false, null],
      ]);
      const diff = (await api('GET', `/v1/contexts/${contextId}/documents/${documentId}/diff`)).body as unknown as DocumentDiffV1;
      expect(diff.changes.map((c) => `${c.type} ${c.from?.numbering ?? '-'}>${c.to?.numbering ?? '-'}`)).toEqual([
        'added ->gifts.2',
        'changed gifts.2>gifts.3',
        'moved gifts.3>gifts.4',
      ]);
      expect((await api('GET', `/v1/contexts/${contextId}/documents/${documentId}/diff?from=9`)).status).toBe(404);

      // The context's clauses are version 2's; the first dataset's are still readable (what its audit checks answers against).
      const clauseTexts = async (query: string) => {
        const r = await fetch(`${running.get('framer')?.url}/v1/contexts/${contextId}/clauses${query}`, {
          headers: serviceHeaders('acme'),
        });
        return ((await r.json()) as { clauses: { text: string }[] }).clauses.map((c) => c.text);
      };
      expect(await clauseTexts('')).toContain('Employees may accept gifts worth up to 25 EUR without approval.');
      expect(await clauseTexts('')).not.toContain('Employees may accept gifts worth up to 50 EUR without approval.');
      expect(await clauseTexts(`?datasetVersionId=${dataset.id}`)).toContain(
        'Employees may accept gifts worth up to 50 EUR without approval.',
      );

      // The auditor heard policy.document.revised: the audit of the first dataset is stale.
      const stale = await eventually(
        async () => (await api('GET', `/v1/audits/${audit.id}`)).body['stale'] as AuditRunRecord['stale'],
        30_000,
      );
      expect(stale).toMatchObject({ revisions: [{ documentId, fromVersion: 1, toVersion: 2 }] });
      expect(stale?.staleExamples).toBeGreaterThan(0);

      const second = await api('POST', `/v1/contexts/${contextId}/datasets`, { seed: 3 });
      expect(second.status).toBe(201);
      const incremental = (second.body as unknown as DatasetVersionRecord).incremental;
      expect(incremental).toMatchObject({ fromDatasetVersionId: dataset.id });
      expect(incremental?.dropped).toBe(stale?.staleExamples);
      expect(incremental?.kept).toBeGreaterThan(0);
      expect(incremental?.regenerated).toBeGreaterThan(0);
    }, 120_000);

    it('exits 0 on SIGTERM within a few seconds', async () => {
      const exits = [...running.values()].map(async ({ service }) => {
        service.kill('SIGTERM');
        const startedAt = Date.now();
        const exit = await service.exitWithin(12_000);
        return { name: service.name, ...exit, tookMs: Date.now() - startedAt, log: service.stdout };
      });
      for (const result of await Promise.all(exits)) {
        expect({ name: result.name, code: result.code, signal: result.signal }).toEqual({ name: result.name, code: 0, signal: null });
        expect(result.tookMs).toBeLessThan(12_000);
      }
    });
  });
});
