import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { buildCloudEvent, FEEDBACK_PREFERENCE_SUBMITTED_V1, PREFERENCE_DATASET_PUBLISHED_V1, type CloudEvent } from '@studio/contracts';
import { InProcessEventBus } from '@studio/inproc';
import { createServiceApp, EmbeddedPlatform, loadServiceConfig, ServiceLogger, startServiceApp } from '@studio/nest';
import { preferenceId, type PreferenceInput } from '@studio/preferences';
import { rewardModelService } from './reward-model.service';

const TOKEN = 'reward-model-spec-service-token-0123456789';
const VALUES = JSON.parse(readFileSync(join(__dirname, '../../../examples/northwind-conduct/values.json'), 'utf8')) as unknown;

/**
 * The service as `studio view` runs it: the embedded profile (its SQLite file, the in-process bus
 * of the platform's broker), its own definition and configuration, the framer's context API
 * played by a small HTTP server.
 */
describe('the reward-model service on the embedded profile', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reward-model-embedded-'));
  const framerCalls: Array<{ url: string | undefined; token: unknown; tenant: unknown }> = [];
  let framer: Server;
  let app: INestApplication;
  let base = '';
  let peer: InProcessEventBus;
  const published: CloudEvent<unknown>[] = [];

  beforeAll(async () => {
    framer = createServer((req, res) => {
      framerCalls.push({ url: req.url, token: req.headers['x-studio-service-token'], tenant: req.headers['x-tenant-id'] });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/contexts/ctx-1') res.end(JSON.stringify({ id: 'ctx-1', name: 'Northwind', values: VALUES }));
      else res.writeHead(404).end(JSON.stringify({ message: 'context not found' }));
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    const framerUrl = `http://127.0.0.1:${(framer.address() as { port: number }).port}`;
    const config = loadServiceConfig(rewardModelService, {
      STUDIO_PROFILE: 'embedded',
      STUDIO_DATA_DIR: dataDir,
      STUDIO_ARTIFACT_DIR: join(dataDir, 'artifacts'),
      SERVICE_TOKEN: TOKEN,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'fatal',
      FRAMER_URL: framerUrl,
      AUDITOR_URL: 'http://127.0.0.1:47',
    });
    app = await createServiceApp(rewardModelService, config, new ServiceLogger('reward-model', 'fatal'));
    base = await startServiceApp(app, config);
    // Another service of the same process: it publishes on the platform's broker, and sees what the service publishes.
    peer = new InProcessEventBus({ groupId: 'peer', broker: EmbeddedPlatform.of(dataDir).broker });
    peer.subscribe(PREFERENCE_DATASET_PUBLISHED_V1, async (event) => void published.push(event));
    await peer.start();
  });
  afterAll(async () => {
    await peer?.stop();
    await app?.close();
    await EmbeddedPlatform.of(dataDir).close();
    if (framer.listening) await new Promise<void>((resolve) => framer.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { 'x-studio-service-token': TOKEN },
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-tenant-id': 'local', ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: (res.headers.get('content-type') ?? '').includes('application/json') ? (JSON.parse(text) as unknown) : null,
    };
  };

  const judgement: PreferenceInput = {
    contextId: 'ctx-1',
    prompt: 'May I accept a $300 gift from a supplier?',
    systemPrompt: null,
    retrievedClauseIds: [],
    clauseIds: [],
    chosen: 'No: gifts above $100 must be declined (§6.1).',
    rejected: 'Yes.',
    source: 'human',
    rejectedKind: null,
    values: ['honesty'],
    annotator: 'key:k1',
    explanation: null,
    edited: false,
    origin: { datasetVersionId: null, exampleId: null, auditId: null, runId: null },
  };

  it('refuses calls without the service credential', async () => {
    expect((await call('GET', '/v1/contexts/ctx-1/preferences', undefined, {})).status).toBe(401);
  });

  it('stores a judgement published on the in-process bus, publishes a dataset weighted by the framer’s values, and exports it', async () => {
    const id = preferenceId(judgement);
    await peer.publish(
      FEEDBACK_PREFERENCE_SUBMITTED_V1,
      buildCloudEvent({
        topic: FEEDBACK_PREFERENCE_SUBMITTED_V1,
        source: '/studio/gateway',
        tenantId: 'local',
        contextId: 'ctx-1',
        data: { version: 'v1', contextId: 'ctx-1', preference: { ...judgement, id, createdAt: '2026-12-01T08:00:00.000Z' } },
      }),
    );
    let stored = await call('GET', `/v1/contexts/ctx-1/preferences/${id}`);
    for (let i = 0; i < 100 && stored.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stored = await call('GET', `/v1/contexts/ctx-1/preferences/${id}`);
    }
    expect(stored.body).toMatchObject({ id, createdAt: '2026-12-01T08:00:00.000Z', weight: null });

    const res = await call('POST', '/v1/contexts/ctx-1/preference-datasets', { heldOutRatio: 0 });
    expect(res.status).toBe(201);
    const dataset = res.body as { id: string; pairs: { weight: number }[]; train: { examples: number }; valuesSha256: string | null };
    // honesty is fourth of the six values: importance (6 − 4 + 1) / 6 = 0.5; a person's judgement counts fully.
    expect(dataset.pairs[0]?.weight).toBeCloseTo(0.5);
    expect(dataset.valuesSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(framerCalls.at(-1)).toEqual({ url: '/v1/contexts/ctx-1', token: TOKEN, tenant: 'local' });
    await peer.idle();
    expect(published.map((e) => (e.data as { preferenceDatasetId: string }).preferenceDatasetId)).toEqual([dataset.id]);
    expect(dataset.train.examples).toBe(1);
    const exported = await call('GET', `/v1/contexts/ctx-1/preference-datasets/${dataset.id}/export`);
    expect(JSON.parse(exported.text.trim())).toMatchObject({ preference_id: id, weight: 0.5 });
  });

  it("erases the tenant's preferences, resolutions and preference datasets (its part of a tenant's erasure), and no other tenant's", async () => {
    const other = await call(
      'POST',
      '/v1/contexts/ctx-1/preferences',
      { items: [judgement] },
      { 'x-studio-service-token': TOKEN, 'x-tenant-id': 'other' },
    );
    expect(other.status).toBe(201);
    const erased = await call('DELETE', '/v1/tenant-data');
    expect(erased).toMatchObject({
      status: 200,
      body: { tenantId: 'local', records: { preferences: 1, resolutions: 0, preferenceDatasets: 1 } },
    });
    expect((await call('GET', '/v1/contexts/ctx-1/preferences')).body).toEqual({ items: [], total: 0 });
    expect((await call('GET', '/v1/contexts/ctx-1/preference-datasets')).body).toEqual({ items: [] });
    const kept = await call('GET', '/v1/contexts/ctx-1/preferences', undefined, {
      'x-studio-service-token': TOKEN,
      'x-tenant-id': 'other',
    });
    expect(kept.body).toMatchObject({ total: 1 });
    expect((await call('DELETE', '/v1/tenant-data')).body).toMatchObject({
      records: { preferences: 0, resolutions: 0, preferenceDatasets: 0 },
    });
  });

  it('answers 409 for a context without preferences, and 503 naming the framer when the values cannot be read', async () => {
    const none = await call('POST', '/v1/contexts/ctx-2/preference-datasets', {});
    expect(none).toMatchObject({ status: 409, body: { message: 'context "ctx-2" has no preferences to publish: record some first' } });
    framer.closeAllConnections();
    await new Promise<void>((resolve) => framer.close(() => resolve()));
    const down = await call('POST', '/v1/contexts/ctx-1/preference-datasets', {});
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      message: expect.stringMatching(
        /^the values of context "ctx-1" could not be read from the framer: reading context ctx-1 from the framer at .* failed/,
      ),
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
