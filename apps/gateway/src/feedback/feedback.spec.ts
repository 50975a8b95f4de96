import { Module, NotFoundException, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FEEDBACK_PREFERENCE_SUBMITTED_V1, FeedbackPreferenceSubmittedV1, type CloudEvent, type Topic } from '@studio/contracts';
import type { ContextValues } from '@studio/framing';
import { EVENT_BUS } from '@studio/nest';
import type { EventBus } from '@studio/ports';
import { preferenceId } from '@studio/preferences';
import { AuditLog } from '../auth/audit-log';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { setUpOpenApi } from '../gateway.service';
import { applyHttpConventions } from '../http/problem-details';
import type { ForwardRequest, ServiceClient, UpstreamName, UpstreamResponse } from '../upstream/service-client';
import { FeedbackContextError, preferenceFromFeedback } from './feedback';
import { FeedbackRequest } from './feedback-schemas';
import { FeedbackModule } from './feedback.module';

const VALUES: ContextValues = {
  context: { id: 'ctx', name: 'A rule set', documents: [] },
  values: [
    { name: 'helpfulness', priority: 3, description: 'Answer what is asked.', sections: [] },
    { name: 'honesty', priority: 1, description: 'Say what the rules say.', sections: [] },
    { name: 'privacy', priority: 2, description: 'Protect personal data.', sections: [] },
  ],
  audit: { min_aligned_correctness: 0.5, min_faithfulness: 0.5, max_benign_refusal_rate: 0.2 },
};

/** The framer (contexts: `ctx` with values and `bare` without, both acme's) and the reward-model service, as the gateway sees them. */
class FakeServices {
  readonly requests: Array<ForwardRequest & { service: UpstreamName }> = [];
  reward: (request: ForwardRequest) => UpstreamResponse = () => ({
    status: 200,
    contentType: 'application/json',
    body: { items: [], total: 0 },
  });
  async forward(service: UpstreamName, request: ForwardRequest): Promise<UpstreamResponse> {
    this.requests.push({ service, ...request });
    if (service === 'framer') {
      const id = request.path.split('/')[3] ?? '';
      if (request.tenant !== 'acme' || !['ctx', 'bare'].includes(id))
        throw new NotFoundException(`context "${id}" not found: create it with POST /v1/contexts`);
      return { status: 200, contentType: 'application/json', body: { id, name: id, values: id === 'ctx' ? VALUES : null } };
    }
    return this.reward(request);
  }
}

const JUDGEMENT = {
  prompt: 'May I share a colleague’s home address with a supplier?',
  answers: ['Yes, go ahead.', 'No: personal data is shared only with consent (§4.2).'],
  choice: 1,
  explanation: 'The first answer permits what §4.2 forbids.',
  values: ['privacy', 'honesty'],
  clauseIds: ['doc-1:4.2:0123456789ab'],
  origin: { runId: 'run-0123', datasetVersionId: 'ds-ctx-1', exampleId: 'ho-7' },
};

describe('human feedback and preferences at the gateway', () => {
  let app: INestApplication;
  let base: string;
  const services = new FakeServices();
  const published: { topic: Topic; event: CloudEvent<unknown> }[] = [];
  let failPublish = false;
  const bus: EventBus = {
    publish: async (topic, event) => {
      if (failPublish) throw new Error('broker unreachable');
      published.push({ topic, event });
    },
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  @Module({ providers: [{ provide: EVENT_BUS, useValue: bus }], exports: [EVENT_BUS] })
  class BusModule {}
  const keys: Record<'viewer' | 'curator' | 'red-teamer' | 'operator', string> = {
    viewer: '',
    curator: '',
    'red-teamer': '',
    operator: '',
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        memoryKeysModule(),
        { module: BusModule, global: true },
        FeedbackModule.forRoot({ publishTimeoutMs: 500 }, services as unknown as ServiceClient),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    setUpOpenApi(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    for (const role of Object.keys(keys) as (keyof typeof keys)[]) keys[role] = await issueKey(app, 'acme', role);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    services.requests.length = 0;
    published.length = 0;
    failPublish = false;
  });

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** Who the audit log says submitted the last judgement: the caller, as its credential names it. */
  const lastSubmitter = async () => (await app.get(AuditLog).read('acme', { action: 'preference.submitted', limit: 1 }))[0]?.actor.subject;
  const submitted = () => {
    expect(published.map((p) => p.topic)).toEqual([FEEDBACK_PREFERENCE_SUBMITTED_V1]);
    const event = published[0]?.event as CloudEvent<unknown>;
    expect(event.tenantid).toBe('acme');
    return FeedbackPreferenceSubmittedV1.parse(event.data);
  };

  it('documents every route in the OpenAPI document with the permission it needs', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { 'x-studio-access'?: { permission?: string } }>>;
    };
    const access = Object.fromEntries(
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/v1/contexts/'))
        .flatMap(([path, ops]) =>
          Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op['x-studio-access']?.permission]),
        ),
    );
    expect(access).toEqual({
      'POST /v1/contexts/{contextId}/feedback': 'feedback:submit',
      'GET /v1/contexts/{contextId}/preferences': 'studio:read',
      'GET /v1/contexts/{contextId}/preferences/{preferenceId}': 'studio:read',
      'POST /v1/contexts/{contextId}/preference-datasets': 'preferences:publish',
      'GET /v1/contexts/{contextId}/preference-datasets': 'studio:read',
      'GET /v1/contexts/{contextId}/preference-datasets/{preferenceDatasetId}': 'studio:read',
      'GET /v1/contexts/{contextId}/preference-datasets/{preferenceDatasetId}/export': 'studio:read',
      'GET /v1/contexts/{contextId}/resolutions': 'studio:read',
    });
  });

  it("publishes a curator's pick as a human preference: the picked answer chosen, the other rejected, the caller the annotator", async () => {
    const res = await call('POST', '/v1/contexts/ctx/feedback', keys.curator, JUDGEMENT);
    expect(res.status).toBe(202);
    const { preferenceId: id } = (await res.json()) as { preferenceId: string };
    const { contextId, preference } = submitted();
    const annotator = await lastSubmitter();
    expect(annotator).toMatch(/^key:/);
    expect(contextId).toBe('ctx');
    expect(preference).toMatchObject({
      id,
      contextId: 'ctx',
      prompt: JUDGEMENT.prompt,
      systemPrompt: null,
      chosen: JUDGEMENT.answers[1],
      rejected: JUDGEMENT.answers[0],
      source: 'human',
      rejectedKind: null,
      // In the context's priority order: honesty (1) before privacy (2).
      values: ['honesty', 'privacy'],
      annotator,
      explanation: JUDGEMENT.explanation,
      edited: false,
      clauseIds: JUDGEMENT.clauseIds,
      retrievedClauseIds: [],
      origin: { datasetVersionId: 'ds-ctx-1', exampleId: 'ho-7', auditId: null, runId: 'run-0123' },
    });
    const { id: _id, createdAt: _at, ...input } = preference;
    expect(id).toBe(preferenceId(input));
    // The values were checked against the context the framer holds for the caller's tenant.
    expect(services.requests).toEqual([{ service: 'framer', method: 'GET', path: '/v1/contexts/ctx', tenant: 'acme' }]);
    expect((await app.get(AuditLog).read('acme', { action: 'preference.submitted', limit: 1 }))[0]).toMatchObject({
      target: `preference:${id}`,
      after: { contextId: 'ctx', preferenceId: id, edited: false },
    });
  });

  it('takes an edit of the better answer as the chosen answer; a red-teamer may judge too', async () => {
    const edit = 'No. Share personal data only with the person’s consent (§4.2).';
    const res = await call('POST', '/v1/contexts/ctx/feedback', keys['red-teamer'], {
      ...JUDGEMENT,
      choice: 1,
      editedChosen: edit,
      values: [],
    });
    expect(res.status).toBe(202);
    const { preference } = submitted();
    expect(preference).toMatchObject({ chosen: edit, rejected: JUDGEMENT.answers[0], edited: true, values: [] });
    expect((await res.json()) as unknown).toEqual({ preferenceId: preference.id });
  });

  it('refuses a judgement that cannot be a preference, naming the problem, and publishes nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...JUDGEMENT, answers: ['Same answer.', ' Same answer. '] }, /the two answers are the same/],
      [{ ...JUDGEMENT, editedChosen: '   ' }, /editedChosen.*must not be empty/],
      [{ ...JUDGEMENT, editedChosen: JUDGEMENT.answers[0] }, /editedChosen.*is the rejected answer/],
      [{ ...JUDGEMENT, editedChosen: JUDGEMENT.answers[1] }, /editedChosen.*unchanged/],
      [{ ...JUDGEMENT, choice: 2 }, /choice.*must be 0 or 1/],
      [{ ...JUDGEMENT, prompt: ' ' }, /prompt.*must not be empty/],
      [{ ...JUDGEMENT, answers: ['only one'] }, /answers/],
      [{ ...JUDGEMENT, values: ['privacy', 'privacy'] }, /names the value "privacy" twice/],
      [{ ...JUDGEMENT, annotator: 'someone-else' }, /annotator/],
      [
        { ...JUDGEMENT, values: ['privacy', 'speed'] },
        /"speed" is not a value of context "ctx" \(its values: helpfulness, honesty, privacy\)/,
      ],
    ];
    for (const [body, problem] of cases) {
      const res = await call('POST', '/v1/contexts/ctx/feedback', keys.curator, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect({ body, detail: String(((await res.json()) as { detail: string }).detail) }).toEqual({
        body,
        detail: expect.stringMatching(problem),
      });
    }
    const bare = await call('POST', '/v1/contexts/bare/feedback', keys.curator, JUDGEMENT);
    expect(bare.status).toBe(400);
    expect(await bare.text()).toMatch(/context \\"bare\\" has no values file/);
    // Without values, a judgement on a context without a values file is a preference.
    expect((await call('POST', '/v1/contexts/bare/feedback', keys.curator, { ...JUDGEMENT, values: [] })).status).toBe(202);
    expect(published).toHaveLength(1);
  });

  it('lets only curators, red-teamers and admins judge (403 naming feedback:submit)', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      const res = await call('POST', '/v1/contexts/ctx/feedback', keys[role], JUDGEMENT);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('feedback:submit');
    }
    expect(published).toEqual([]);
    expect(services.requests).toEqual([]);
  });

  it("finds no other tenant's context: 404 for judgements and reads, and the reward-model service is not asked", async () => {
    const globex = await issueKey(app, 'globex', 'admin');
    expect((await call('POST', '/v1/contexts/ctx/feedback', globex, JUDGEMENT)).status).toBe(404);
    for (const path of [
      'preferences',
      'preferences/pref-1',
      'preference-datasets',
      'preference-datasets/pds-1',
      'preference-datasets/pds-1/export',
      'resolutions',
    ])
      expect({ path, status: (await call('GET', `/v1/contexts/ctx/${path}`, globex)).status }).toEqual({ path, status: 404 });
    expect((await call('POST', '/v1/contexts/ctx/preference-datasets', globex, {})).status).toBe(404);
    expect(services.requests.filter((r) => r.service === 'reward-model')).toEqual([]);
    expect(published).toEqual([]);
  });

  it('answers 503 when the event bus does not take the judgement (nothing confirmed, nothing audited)', async () => {
    failPublish = true;
    const before = (await app.get(AuditLog).read('acme', { limit: 1000 })).length;
    const res = await call('POST', '/v1/contexts/ctx/feedback', keys.curator, { ...JUDGEMENT, explanation: 'another reason' });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/could not publish feedback\.preference\.submitted\.v1.*broker unreachable/);
    expect((await app.get(AuditLog).read('acme', { limit: 1000 })).length).toBe(before);
  });

  it("reads preferences, dataset versions and resolutions from the reward-model service as the caller's tenant", async () => {
    const res = await call('GET', '/v1/contexts/ctx/preferences?source=human&limit=20&offset=40', keys.viewer);
    expect(res.status).toBe(200);
    expect(services.requests.at(-1)).toEqual({
      service: 'reward-model',
      method: 'GET',
      path: '/v1/contexts/ctx/preferences',
      tenant: 'acme',
      query: { source: 'human', limit: '20', offset: '40' },
    });
    await call('GET', '/v1/contexts/ctx/resolutions?preferenceDatasetId=pds-2', keys.viewer);
    expect(services.requests.at(-1)).toMatchObject({ path: '/v1/contexts/ctx/resolutions', query: { preferenceDatasetId: 'pds-2' } });
    const bad = await call('GET', '/v1/contexts/ctx/preferences?source=crowd&limit=0', keys.viewer);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/source[\s\S]*limit|limit[\s\S]*source/);

    const rows = '{"prompt":[{"role":"user","content":"Q"}],"chosen":[],"rejected":[]}\n{"prompt":[]}\n';
    services.reward = () => ({ status: 200, contentType: 'application/jsonl', body: rows });
    const exported = await call('GET', '/v1/contexts/ctx/preference-datasets/pds-2/export', keys.viewer);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^application\/jsonl/);
    expect(await exported.text()).toBe(rows);
  });

  it('publishes the next preference dataset version for curators and operators, in the audit log; not for viewers', async () => {
    const denied = await call('POST', '/v1/contexts/ctx/preference-datasets', keys.viewer, {});
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('preferences:publish');
    const version = { id: 'pds-3', sha256: 'c'.repeat(64), previousId: 'pds-2', newPreferenceIds: ['p1', 'p2'], bySource: { human: 2 } };
    services.reward = () => ({ status: 201, contentType: 'application/json', body: version });
    const res = await call('POST', '/v1/contexts/ctx/preference-datasets', keys.operator, { sources: ['human'], heldOutRatio: 0.2 });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual(version);
    expect(services.requests.at(-1)).toMatchObject({
      service: 'reward-model',
      method: 'POST',
      path: '/v1/contexts/ctx/preference-datasets',
      body: { sources: ['human'], heldOutRatio: 0.2 },
    });
    expect((await app.get(AuditLog).read('acme', { action: 'preference-dataset.published', limit: 1 }))[0]).toMatchObject({
      target: 'preference-dataset:pds-3',
      actor: { role: 'operator' },
      before: { preferenceDatasetId: 'pds-2' },
      after: { preferenceDatasetId: 'pds-3', newPreferences: 2, bySource: { human: 2 } },
    });
    const bad = await call('POST', '/v1/contexts/ctx/preference-datasets', keys.curator, { sources: [], heldOutRatio: 0.9 });
    expect(bad.status).toBe(400);
  });
});

describe('preferenceFromFeedback', () => {
  const body = FeedbackRequest.parse(JUDGEMENT);
  const at = new Date('2026-12-01T10:00:00Z');

  it('gives the same judgement by the same annotator the same id, and another annotator’s another', () => {
    const a = preferenceFromFeedback(body, { contextId: 'ctx', annotator: 'key:a', values: VALUES }, at);
    const again = preferenceFromFeedback(body, { contextId: 'ctx', annotator: 'key:a', values: VALUES }, new Date());
    const b = preferenceFromFeedback(body, { contextId: 'ctx', annotator: 'oidc:b', values: VALUES }, at);
    expect(again.id).toBe(a.id);
    expect(b.id).not.toBe(a.id);
    expect(b.annotator).toBe('oidc:b');
  });

  it('picks by index: choice 0 chooses the first answer', () => {
    const p = preferenceFromFeedback({ ...body, choice: 0, values: [] }, { contextId: 'ctx', annotator: 'key:a', values: null }, at);
    expect([p.chosen, p.rejected]).toEqual(JUDGEMENT.answers);
    expect(p.createdAt).toBe(at.toISOString());
  });

  it('refuses a value the context does not have', () => {
    expect(() =>
      preferenceFromFeedback({ ...body, values: ['loyalty'] }, { contextId: 'ctx', annotator: 'key:a', values: VALUES }, at),
    ).toThrow(FeedbackContextError);
  });
});
