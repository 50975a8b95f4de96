import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { freePort, SERVICES, ServiceProcess, serviceRunEnv, type ServiceName } from './harness/service-process';

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
    if (name !== 'gateway') Object.assign(env, { MONGO_URL: urls.MONGO_URL, MONGO_DB: `${run}_${name.replace('-', '_')}` });
    if (name === 'instructor' || name === 'auditor' || name === 'framer') env['REDIS_URL'] = urls.REDIS_URL;
    if (name === 'framer' || name === 'ontology' || name === 'instructor' || name === 'auditor') env['STUDIO_ARTIFACT_DIR'] = artifactDir;
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

  it('exits 1 naming a dependency URL on a port fetch refuses', async () => {
    const service = start('auditor', { ...envFor('auditor', 1), LLM_BASE_URL: 'http://127.0.0.1:4190/v1' });
    expect(await service.exitWithin(30_000)).toEqual({ code: 1, signal: null });
    expect(service.stderr).toContain('  - LLM_BASE_URL must not use port 4190: fetch refuses it');
  });

  describe('all six running', () => {
    const running = new Map<ServiceName, { service: ServiceProcess; url: string }>();

    beforeAll(async () => {
      for (const name of SERVICES) {
        const port = await freePort();
        running.set(name, { service: start(name, envFor(name, port)), url: `http://127.0.0.1:${port}` });
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
            ? ['dependencies', 'events']
            : name === 'reward-model'
              ? ['mongo']
              : name === 'instructor'
                ? ['events', 'mongo', 'redis']
                : name === 'auditor' || name === 'ontology'
                  ? ['dependencies', 'events', 'mongo']
                  : ['events', 'mongo'];
        expect(Object.keys(ready.checks).sort()).toEqual(expected);
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
        headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
        body: JSON.stringify({
          filename: 'gifts.md',
          mediaType: 'text/markdown',
          content: '# Gifts\nDecline gifts worth more than 50 EUR.',
        }),
      });
      expect(res.status).toBe(202);
      const { documentId, eventId } = (await res.json()) as { documentId: string; eventId: string };

      const stored = await eventually(async () => {
        const r = await fetch(`${framer}/v1/contexts/${contextId}/documents/${documentId}`, { headers: { 'x-tenant-id': 'acme' } });
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
      const other = await fetch(`${framer}/v1/contexts/${contextId}/documents/${documentId}`, { headers: { 'x-tenant-id': 'globex' } });
      expect(other.status).toBe(404);
    });

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
