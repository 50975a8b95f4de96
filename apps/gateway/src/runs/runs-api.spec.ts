import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { buildCloudEvent, type EventData, type Topic } from '@studio/contracts';
import { InProcessEventBus } from '@studio/inproc';
import { EVENT_BUS } from '@studio/nest';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { setUpOpenApi } from '../gateway.service';
import { applyHttpConventions } from '../http/problem-details';
import { ServiceClient } from '../upstream/service-client';
import { RunEventHub, liveFeedGroupId } from './run-event-hub';
import { RunsApiModule } from './runs-api.module';

/** The event bus, global as EventBusModule makes it. */
@Global()
@Module({})
class TestBusModule {
  static with(bus: InProcessEventBus): DynamicModule {
    return { module: TestBusModule, providers: [{ provide: EVENT_BUS, useValue: bus }], exports: [EVENT_BUS] };
  }
}

interface Seen {
  method: string;
  url: string;
  tenant: string | undefined;
  body: unknown;
}

describe('runs API: list, cancel, live events, compare', () => {
  let app: INestApplication;
  let base: string;
  let bus: InProcessEventBus;
  let operator: Record<string, string>;
  let viewer: Record<string, string>;
  let otherTenant: Record<string, string>;
  const seen: Seen[] = [];
  /** The instructor's run of tenant acme, as the test sets it. */
  let acmeRun: Record<string, unknown> = {};
  const upstream: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const tenant = req.headers['x-tenant-id'] as string | undefined;
      seen.push({ method: req.method ?? '', url: req.url ?? '', tenant, body: raw ? JSON.parse(raw) : undefined });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/v1/runs/run-1' && tenant === 'acme') return json(200, acmeRun);
      if (req.url === '/v1/runs/run-1/cancel' && tenant === 'acme') return json(200, { ...acmeRun, state: 'cancelled' });
      if (req.url?.startsWith('/v1/runs/')) return json(404, { statusCode: 404, message: 'training run not found' });
      if (req.url === '/v1/contexts/ctx/runs') return json(200, { runs: [acmeRun] });
      if (req.url === '/v1/contexts/ctx/compare') return json(200, { answers: { base: 'b', aligned: 'a', aligned_rag: 'r' } });
      if (req.url?.startsWith('/v1/contexts/ctx/datasets/ds-1/held-out')) return json(200, { total: 0, items: [] });
      json(500, { message: `unexpected ${req.url}` });
    });
  });

  const publish = async <T extends Topic>(topic: T, tenant: string, id: string, data: EventData<T>) =>
    bus.publish(topic, buildCloudEvent({ topic, source: '/test', tenantId: tenant, contextId: 'ctx', id, data }));
  const progress = (step: number, runId = 'run-1'): EventData<'training.run.progress.v1'> => ({
    version: 'v1',
    contextId: 'ctx',
    runId,
    phase: 'step',
    step,
    totalSteps: 4,
    loss: 2 - step / 4,
    evalLoss: null,
    learningRate: 1e-4,
    tokensPerS: 10,
    etaS: 4 - step,
  });

  beforeAll(async () => {
    const url = await new Promise<string>((resolve) =>
      upstream.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(upstream.address() as { port: number }).port}`)),
    );
    bus = new InProcessEventBus();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TestBusModule.with(bus),
        memoryKeysModule(),
        RunsApiModule.forRoot(
          { heartbeatMs: 100, resyncMs: 60_000 },
          new ServiceClient({ framer: url, ontology: url, instructor: url, auditor: url }),
        ),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    setUpOpenApi(app);
    await app.listen(0, '127.0.0.1');
    await bus.start();
    base = await app.getUrl();
    operator = bearer(await issueKey(app, 'acme', 'operator'));
    viewer = bearer(await issueKey(app, 'acme', 'viewer'));
    otherTenant = bearer(await issueKey(app, 'globex', 'admin'));
  });
  afterAll(async () => {
    await app.close();
    await bus.stop();
    upstream.close();
  });
  beforeEach(() => {
    seen.length = 0;
    acmeRun = {
      id: 'run-1',
      contextId: 'ctx',
      state: 'running',
      step: 1,
      totalSteps: 4,
      lossCurve: [{ step: 1, loss: 1.75 }],
      adapter: null,
    };
  });

  /** Reads an SSE response to its end (or until `until` says stop), message by message. */
  async function readEvents(
    res: Response,
    onMessage?: (m: { event: string; data: unknown }) => Promise<void>,
  ): Promise<{ messages: Array<{ event: string; id: string; data: unknown }>; comments: number }> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const messages: Array<{ event: string; id: string; data: unknown }> = [];
    let comments = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) {
          comments += 1;
          continue;
        }
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2) ?? '';
        const message = { event: field('event'), id: field('id'), data: JSON.parse(field('data')) as unknown };
        messages.push(message);
        await onMessage?.(message);
      }
    }
    return { messages, comments };
  }

  it('streams the state, then new progress, and ends with the completion; another tenant’s events never reach it', async () => {
    const res = await fetch(`${base}/v1/runs/run-1/events`, { headers: viewer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const hub = app.get(RunEventHub);
    const { messages, comments } = await readEvents(res, async (m) => {
      if (m.event !== 'state') return;
      // Replayed step 1 (the state has it), a step of tenant globex's run-1, then acme's steps and the end.
      await publish('training.run.progress.v1', 'acme', 'p-1', progress(1));
      await publish('training.run.progress.v1', 'globex', 'g-2', progress(2));
      await new Promise((r) => setTimeout(r, 250));
      await publish('training.run.progress.v1', 'acme', 'p-2', progress(2));
      await publish('training.run.progress.v1', 'acme', 'p-3', progress(3));
      await publish('training.run.completed.v1', 'acme', 'c-1', {
        version: 'v1',
        contextId: 'ctx',
        runId: 'run-1',
        method: 'sft',
        baseModel: 'tiny',
        datasetVersionId: 'ds-1',
        adapterId: 'adapter-1',
        artifactUri: '/artifacts/run-1',
        metrics: { train_loss: 1.2 },
        parentAdapter: null,
        preferenceDatasetId: null,
      });
    });
    expect(messages.map((m) => m.event)).toEqual(['state', 'progress', 'progress', 'completed']);
    expect(messages[0]?.data).toEqual(acmeRun);
    expect(messages.slice(1, 3).map((m) => (m.data as { step: number; etaS: number }).step)).toEqual([2, 3]);
    expect(messages[1]).toMatchObject({ id: 'p-2', data: { loss: 1.5, etaS: 2, totalSteps: 4 } });
    expect(messages[3]).toMatchObject({ id: 'c-1', data: { adapterId: 'adapter-1' } });
    expect(comments).toBeGreaterThanOrEqual(1);
    expect(seen.filter((s) => s.url === '/v1/runs/run-1').map((s) => s.tenant)).toEqual(['acme']);
    // The stream ended: nobody follows the run any more.
    await new Promise((r) => setTimeout(r, 20));
    expect(hub.followers).toBe(0);
  });

  it('a finished run gets its state and the stream ends; a client that goes away stops following', async () => {
    acmeRun = { ...acmeRun, state: 'cancelled' };
    const res = await fetch(`${base}/v1/runs/run-1/events`, { headers: viewer });
    const { messages } = await readEvents(res);
    expect(messages.map((m) => m.event)).toEqual(['state']);
    expect(messages[0]?.data).toMatchObject({ state: 'cancelled' });

    acmeRun = { ...acmeRun, state: 'running' };
    const controller = new AbortController();
    const open = await fetch(`${base}/v1/runs/run-1/events`, { headers: viewer, signal: controller.signal });
    expect(open.status).toBe(200);
    const hub = app.get(RunEventHub);
    expect(hub.followers).toBe(1);
    controller.abort();
    for (let i = 0; i < 50 && hub.followers > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(hub.followers).toBe(0);
  });

  it("another tenant's run (or none) is a 404 problem before any event", async () => {
    const res = await fetch(`${base}/v1/runs/run-1/events`, { headers: otherTenant });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(app.get(RunEventHub).followers).toBe(0);
    expect((await fetch(`${base}/v1/runs/bad%20id/events`, { headers: viewer })).status).toBe(400);
    expect((await fetch(`${base}/v1/runs/run-1/events`)).status).toBe(401);
  });

  it('lists runs and cancels as the caller, forwarding the tenant from the credential; a viewer may not cancel', async () => {
    const list = await fetch(`${base}/v1/contexts/ctx/runs`, { headers: { ...viewer, 'x-tenant-id': 'globex' } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ runs: [acmeRun] });
    const refused = await fetch(`${base}/v1/runs/run-1/cancel`, { method: 'POST', headers: viewer });
    expect(refused.status).toBe(403);
    const cancel = await fetch(`${base}/v1/runs/run-1/cancel`, { method: 'POST', headers: operator });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ state: 'cancelled' });
    expect(seen.map((s) => [s.method, s.url, s.tenant, s.body])).toEqual([
      ['GET', '/v1/contexts/ctx/runs', 'acme', undefined],
      ['POST', '/v1/runs/run-1/cancel', 'acme', { by: expect.stringMatching(/^key:/) }],
    ]);
  });

  it('validates a compare request before forwarding it, and forwards held-out paging', async () => {
    const post = (body: unknown) =>
      fetch(`${base}/v1/contexts/ctx/compare`, {
        method: 'POST',
        headers: { ...operator, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const both = await post({ runId: 'run-1', prompt: 'May I?', heldOutItemId: 'i-1' });
    expect(both.status).toBe(400);
    expect(((await both.json()) as { detail: string }).detail).toMatch(/exactly one of prompt and heldOutItemId/);
    expect(seen).toEqual([]);
    const ok = await post({ runId: 'run-1', prompt: 'May I accept a gift?' });
    expect(ok.status).toBe(200);
    const held = await fetch(`${base}/v1/contexts/ctx/datasets/ds-1/held-out?limit=5`, { headers: viewer });
    expect(held.status).toBe(200);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/v1/contexts/ctx/compare', { runId: 'run-1', prompt: 'May I accept a gift?' }],
      ['GET', '/v1/contexts/ctx/datasets/ds-1/held-out?limit=5', undefined],
    ]);
  });

  it('documents its operations in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: unknown; parameters?: { name: string }[]; responses: Record<string, { content?: Record<string, unknown> }> }
        >
      >;
    };
    expect(Object.keys(doc.paths['/v1/runs/{runId}/events'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/runs/{runId}/events']?.['get']?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(doc.paths['/v1/runs/{runId}/cancel']?.['post']).toBeDefined();
    expect(doc.paths['/v1/contexts/{contextId}/runs']?.['get']).toBeDefined();
    expect(doc.paths['/v1/contexts/{contextId}/compare']?.['post']?.requestBody).toBeDefined();
    const heldOut = doc.paths['/v1/contexts/{contextId}/datasets/{datasetVersionId}/held-out']?.['get'];
    expect(heldOut?.parameters?.map((p) => p.name).sort()).toEqual(['contextId', 'datasetVersionId', 'limit', 'offset']);
  });

  it('names a consumer group per gateway process', () => {
    expect(liveFeedGroupId('studio-gateway', 'gw-7f9c', 1)).toBe('studio-gateway-live-gw-7f9c-1');
  });
});
