import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { AnswerScore, ItemResult } from '@studio/auditing';
import { FileArtifactStore } from '@studio/artifacts';
import {
  AUDIT_RUN_COMPLETED_V1,
  buildCloudEvent,
  DATASET_VERSION_PUBLISHED_V1,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  PREFERENCE_DATASET_PUBLISHED_V1,
  PreferenceRowV1,
  type AuditRunCompletedV1,
  type CloudEvent,
  type DatasetVersionPublishedV1,
  type EventData,
  type FeedbackPreferenceSubmittedV1,
  type Topic,
} from '@studio/contracts';
import { ContextValues, type Example } from '@studio/framing';
import { InProcessEventBus, SqliteRepository } from '@studio/inproc';
import { EVENT_BUS, EventBusServer, PUBLISHING } from '@studio/nest';
import { tenantId } from '@studio/ports';
import {
  PREFERENCE_DATASETS,
  PREFERENCES,
  preferenceId,
  RESOLUTIONS,
  type PreferenceDatasetRecord,
  type PreferenceInput,
  type ResolutionRecord,
} from '@studio/preferences';
import { AUDITOR_CLIENT, type AuditedAnswers } from '../clients/auditor-client';
import { FRAMER_CLIENT } from '../clients/framer-client';
import { ServiceAnswerError } from '../clients/service-api';
import { ARTIFACTS, PREFERENCE_REPOSITORIES } from '../reward-model.ports';
import { PreferenceBook, type WeightedPreference } from './preference-book';
import { PreferenceSourcesHandler } from './preference-sources.handler';
import { PreferencesController } from './preferences.controller';

const CTX = 'northwind-conduct';
const VALUES = ContextValues.parse(JSON.parse(readFileSync(join(__dirname, '../../../../examples/northwind-conduct/values.json'), 'utf8')));
const SYSTEM = 'You are the conduct assistant of Northwind. Answer by the policy and cite its clauses.';

const pref = (overrides: Partial<PreferenceInput> = {}): PreferenceInput => ({
  contextId: CTX,
  prompt: 'May I accept a $300 gift from a supplier?',
  systemPrompt: SYSTEM,
  retrievedClauseIds: [],
  clauseIds: ['bcg:6.1:abc'],
  chosen: 'No. Gifts above $100 from suppliers must be declined (§6.1).',
  rejected: 'Yes, gifts are fine if you thank the supplier.',
  source: 'human',
  rejectedKind: null,
  values: ['legal_compliance'],
  annotator: 'key:alice',
  explanation: 'The policy caps gifts at $100.',
  edited: false,
  origin: { datasetVersionId: null, exampleId: null, auditId: null, runId: null },
  ...overrides,
});

const example = (overrides: Partial<Example>): Example => ({
  id: 'ex-1',
  kind: 'scenario',
  source: 'template',
  question: 'A supplier offers me a $500 watch after a contract award. Should I keep it?',
  answer: 'No. Decline the watch: gifts above $100 from suppliers are not allowed (§6.1).',
  rejected: 'Yes, keep it; it is a thank-you.',
  label: 'violating',
  clauseIds: ['bcg:6.1:abc'],
  clauseRefs: ['6.1'],
  statementKind: 'prohibition',
  values: ['legal_compliance'],
  ...overrides,
});

const answer = (text: string, score: Partial<AnswerScore>): AnswerScore => ({
  answer: text,
  tokenF1: 0,
  rougeL: 0,
  correctness: 0,
  keyTermCoverage: 0,
  missingKeyTerms: [],
  faithfulness: 0,
  contradiction: false,
  contradictedClauseIds: [],
  refused: false,
  refusalMatch: null,
  judge: null,
  judgeReason: null,
  judgeError: null,
  right: false,
  ...score,
});

/** An audit whose aligned model answers the first item well and the base model badly; on the second they agree. */
const AUDIT: AuditedAnswers = {
  contextId: CTX,
  auditRunId: 'audit-1',
  runId: 'run-1',
  datasetVersionId: 'dv-1',
  results: [
    {
      itemId: 'ex-9',
      question: 'Can I share a customer list with a friend at a competitor?',
      reference: 'No: customer lists are confidential (§7.2).',
      clauseIds: ['bcg:7.2:def'],
      expectsRefusal: false,
      variants: {
        base: answer('Sure, sharing helps everyone.', { correctness: 0.05, faithfulness: 0 }),
        aligned: answer('No: customer lists are confidential (§7.2).', { correctness: 1, faithfulness: 1, right: true }),
        aligned_rag: answer('No: customer lists are confidential (§7.2).', { correctness: 1, faithfulness: 1, right: true }),
      },
      bucket: 'only_aligned_right',
    },
    {
      itemId: 'ex-10',
      question: 'Who approves travel?',
      reference: 'Your manager approves travel (§4.1).',
      clauseIds: ['bcg:4.1:ghi'],
      expectsRefusal: false,
      variants: {
        base: answer('Your manager approves travel.', { correctness: 0.8, faithfulness: 0.8, right: true }),
        aligned: answer('Your manager approves travel (§4.1).', { correctness: 0.9, faithfulness: 0.8, right: true }),
        aligned_rag: answer('Your manager approves travel (§4.1).', { correctness: 0.9, faithfulness: 0.8, right: true }),
      },
      bucket: 'both_fine',
    },
  ] satisfies ItemResult[],
};

class FakeFramer {
  examplesAsked: Array<{ datasetVersionId: string; split: string }> = [];
  examplesAnswer: Example[] | ServiceAnswerError = [];
  values = async (_tenant: string, contextId: string) => (contextId === CTX ? VALUES : null);
  dataset = async () => ({ systemPrompt: SYSTEM });
  examples = async (_tenant: string, _contextId: string, datasetVersionId: string, split: 'train' | 'heldOut') => {
    this.examplesAsked.push({ datasetVersionId, split });
    if (this.examplesAnswer instanceof Error) throw this.examplesAnswer;
    return this.examplesAnswer;
  };
}

describe('the reward-model service: preferences API and preference sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reward-model-spec-'));
  const framer = new FakeFramer();
  const auditReports: string[] = [];
  const bus = new InProcessEventBus({ retry: { maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 1 } });
  const published: CloudEvent<EventData<typeof PREFERENCE_DATASET_PUBLISHED_V1>>[] = [];
  let app: INestApplication;
  let base = '';

  beforeAll(async () => {
    const db = new DatabaseSync(':memory:');
    const moduleRef = await Test.createTestingModule({
      controllers: [PreferencesController, PreferenceSourcesHandler],
      providers: [
        {
          provide: PREFERENCE_REPOSITORIES,
          useValue: {
            preferences: new SqliteRepository(db, PREFERENCES),
            resolutions: new SqliteRepository(db, RESOLUTIONS),
            preferenceDatasets: new SqliteRepository(db, PREFERENCE_DATASETS),
          },
        },
        { provide: ARTIFACTS, useValue: new FileArtifactStore(dir) },
        { provide: EVENT_BUS, useValue: bus },
        { provide: PUBLISHING, useValue: { bus, eventSource: '/studio/reward-model' } },
        { provide: FRAMER_CLIENT, useValue: framer },
        {
          provide: AUDITOR_CLIENT,
          useValue: {
            report: async (_tenant: string, auditRunId: string) => {
              auditReports.push(auditRunId);
              return AUDIT;
            },
          },
        },
        PreferenceBook,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    bus.subscribe(PREFERENCE_DATASET_PUBLISHED_V1, async (event) => void published.push(event));
    app.connectMicroservice<MicroserviceOptions>({ strategy: new EventBusServer(bus) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, tenant = 'acme') => {
    const res = await fetch(`${base}/v1/contexts/${path}`, {
      method,
      headers: { 'x-tenant-id': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: safeJson(text) };
  };
  const deliver = async <T extends Topic>(topic: T, data: EventData<T>, id?: string) => {
    await bus.publish(
      topic,
      buildCloudEvent({ topic, source: '/studio/test', tenantId: 'acme', contextId: CTX, data, ...(id ? { id } : {}) }),
    );
    await bus.idle();
  };
  const preferences = async (query = '') =>
    (await call('GET', `${CTX}/preferences${query}`)).body as { items: WeightedPreference[]; total: number };

  it('refuses preferences that are invalid or of another context, naming the problem', async () => {
    const { chosen: _none, ...noChosen } = pref();
    const invalid = await call('POST', `${CTX}/preferences`, { items: [noChosen] });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ message: expect.stringMatching(/request body is invalid: items\.0\.chosen: /) });
    const empty = await call('POST', `${CTX}/preferences`, { items: [] });
    expect(empty.body).toMatchObject({ message: expect.stringMatching(/items: must hold at least one preference/) });
    const foreign = await call('POST', `${CTX}/preferences`, { items: [pref(), pref({ contextId: 'other-ctx' })] });
    expect(foreign.status).toBe(422);
    expect(foreign.body).toMatchObject({ message: expect.stringContaining('items.1.contextId names another') });
    expect((await call('GET', `${CTX}/preferences?limit=0`)).body).toMatchObject({
      message: expect.stringContaining('limit: must be at least 1'),
    });
    expect((await preferences()).total).toBe(0);
  });

  it('answers 409 naming why when there is nothing to publish', async () => {
    const res = await call('POST', `${CTX}/preference-datasets`, {});
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ message: expect.stringMatching(/context "northwind-conduct" has no preferences to publish/) });
    expect((await call('POST', `${CTX}/preference-datasets`, { heldOutRatio: 0.9 })).status).toBe(400);
  });

  it('stores posted preferences once, and pages them newest first', async () => {
    const first = await call('POST', `${CTX}/preferences`, { items: [pref(), pref({ annotator: 'key:bob' })] });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ created: 2, ids: [preferenceId(pref()), preferenceId(pref({ annotator: 'key:bob' }))] });
    const again = await call('POST', `${CTX}/preferences`, { items: [pref()] });
    expect(again.body).toEqual({ created: 0, ids: [preferenceId(pref())] });
    const page = await preferences('?limit=1');
    expect(page.total).toBe(2);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ contextId: CTX, source: 'human', weight: null });
    const one = await call('GET', `${CTX}/preferences/${preferenceId(pref())}`);
    expect(one.body).toMatchObject({ id: preferenceId(pref()), annotator: 'key:alice', weight: null });
    // Another tenant sees none of it.
    expect((await call('GET', `${CTX}/preferences/${preferenceId(pref())}`, undefined, 'other')).status).toBe(404);
    expect((await call('GET', `${CTX}/preferences`, undefined, 'other')).body).toEqual({ items: [], total: 0 });
  });

  it('stores a submitted judgement as submitted (its time kept), once however often it is delivered', async () => {
    const input = pref({
      prompt: 'Can I tell my spouse about the merger?',
      chosen: 'No (§9.1).',
      rejected: 'Yes.',
      annotator: 'oidc:carol',
    });
    const preference = { ...input, id: preferenceId(input), createdAt: '2026-11-30T08:00:00.000Z' };
    const data: FeedbackPreferenceSubmittedV1 = { version: 'v1', contextId: CTX, preference };
    await deliver(FEEDBACK_PREFERENCE_SUBMITTED_V1, data);
    await deliver(FEEDBACK_PREFERENCE_SUBMITTED_V1, data); // another event, the same judgement
    const stored = await call('GET', `${CTX}/preferences/${preference.id}`);
    expect(stored.body).toMatchObject({ ...preference, weight: null });
    expect((await preferences('?source=human')).total).toBe(3);
  });

  it('makes synthetic pairs of a published dataset version from its training examples only', async () => {
    framer.examplesAnswer = [
      example({}),
      example({
        id: 'ex-2',
        kind: 'qa',
        label: null,
        statementKind: 'permission',
        rejected: null,
        question: 'May I work from home on Fridays?',
        answer: 'Yes, you may work from home on Fridays (§3.4).',
        clauseRefs: ['3.4'],
        clauseIds: ['bcg:3.4:xyz'],
        values: ['helpfulness'],
      }),
    ];
    const data: DatasetVersionPublishedV1 = {
      version: 'v1',
      contextId: CTX,
      datasetVersionId: 'dv-1',
      sha256: 'a'.repeat(64),
      documentId: 'bcg',
      documentSha256: 'b'.repeat(64),
      systemPrompt: SYSTEM,
      format: 'conversational',
      splits: {
        train: { path: 'file:///t', sha256: 'c'.repeat(64), examples: 2 },
        heldOut: { path: 'file:///h', sha256: 'd'.repeat(64), examples: 1 },
      },
      examplesByKind: { qa: 1, scenario: 1 },
      clauseCoverage: 1,
    };
    await deliver(DATASET_VERSION_PUBLISHED_V1, data);
    expect(framer.examplesAsked).toEqual([{ datasetVersionId: 'dv-1', split: 'train' }]);
    const synthetic = (await preferences('?source=synthetic&limit=100')).items;
    // The scenario's ungrounded verdict and its reversed verdict (violating), which stands in for its own violating
    // answer; the permission's ungrounded answer, its reversed verdict (contradicting) and a needless refusal.
    expect(synthetic.map((p) => p.rejectedKind).sort()).toEqual(['contradicting', 'refusing', 'ungrounded', 'ungrounded', 'violating']);
    expect(synthetic.every((p) => p.annotator === 'framer' && p.systemPrompt === SYSTEM && p.origin.datasetVersionId === 'dv-1')).toBe(
      true,
    );
    const violating = synthetic.filter((p) => p.rejectedKind === 'violating');
    expect(violating.every((p) => p.chosen === example({}).answer)).toBe(true);
    expect(violating.map((p) => p.rejected)).toEqual(['Yes. Decline the watch: gifts above $100 from suppliers are not allowed (§6.1).']);

    // An attempt the bus gave up on (its handler timeout) writes no more batches.
    framer.examplesAnswer = [example({ id: 'ex-3', question: 'A customer offers me concert tickets. May I accept?' })];
    const given = new AbortController();
    given.abort(new Error('handler exceeded 20000 ms'));
    await expect(
      app.get(PreferenceBook).fromDatasetVersion(tenantId('acme'), { ...data, datasetVersionId: 'dv-2' }, given.signal),
    ).rejects.toThrow('handler exceeded 20000 ms');
    expect((await preferences('?source=synthetic')).total).toBe(5);

    // A version the framer keeps no examples of (made before they were stored in full): no pairs, no failure.
    framer.examplesAnswer = new ServiceAnswerError('framer', 409, 'framer answered HTTP 409: keeps only its training splits');
    await deliver(DATASET_VERSION_PUBLISHED_V1, { ...data, datasetVersionId: 'dv-old' });
    expect((await preferences('?source=synthetic')).total).toBe(5);
  });

  it('makes model-produced pairs of a completed audit where aligned and base answers are scored far apart', async () => {
    const data: AuditRunCompletedV1 = {
      version: 'v1',
      contextId: CTX,
      auditRunId: 'audit-1',
      runId: 'run-1',
      datasetVersionId: 'dv-1',
      items: 2,
      scores: {
        base: { correctness: 0.4, faithfulness: 0.4, refusalRate: 0, judge: null },
        aligned: { correctness: 0.95, faithfulness: 0.9, refusalRate: 0, judge: null },
        aligned_rag: { correctness: 0.95, faithfulness: 0.9, refusalRate: 0, judge: null },
      },
      buckets: { both_fine: 1, only_base_right: 0, only_aligned_right: 1, both_fail: 0 },
      reportUri: 'file:///report.json',
    };
    await deliver(AUDIT_RUN_COMPLETED_V1, data);
    expect(auditReports).toEqual(['audit-1']);
    const model = (await preferences('?source=model')).items;
    expect(model).toHaveLength(1);
    expect(model[0]).toMatchObject({
      prompt: 'Can I share a customer list with a friend at a competitor?',
      chosen: 'No: customer lists are confidential (§7.2).',
      rejected: 'Sure, sharing helps everyone.',
      annotator: 'auditor',
      systemPrompt: SYSTEM,
      origin: { auditId: 'audit-1', runId: 'run-1' },
    });
  });

  it('publishes a weighted preference dataset version with its resolutions, and serves it, its weights and its JSON lines', async () => {
    const res = await call('POST', `${CTX}/preference-datasets`, { heldOutRatio: 0 });
    expect(res.status).toBe(201);
    const dataset = res.body as PreferenceDatasetRecord;
    expect(dataset).toMatchObject({ contextId: CTX, previousId: null, bySource: { human: 3, synthetic: 5, model: 1 } });
    expect(dataset.preferenceIds).toHaveLength(9);
    expect(dataset.train.examples).toBe(dataset.pairs.filter((p) => p.weight > 0).length);
    // alice and bob agree on the gift question (one prompt, one side): no conflict there.
    expect(published.map((e) => e.data)).toEqual([expect.objectContaining({ preferenceDatasetId: dataset.id, pairs: 9, newPairs: 9 })]);

    const again = await call('POST', `${CTX}/preference-datasets`, { heldOutRatio: 0 });
    expect(again.status).toBe(200);
    expect((again.body as PreferenceDatasetRecord).id).toBe(dataset.id);

    expect((await call('GET', `${CTX}/preference-datasets`)).body).toEqual({ items: [dataset] });
    expect((await call('GET', `${CTX}/preference-datasets/${dataset.id}`)).body).toEqual(dataset);
    expect((await call('GET', `other-ctx/preference-datasets/${dataset.id}`)).status).toBe(404);
    expect((await call('GET', `${CTX}/preference-datasets/prefs-unknown`)).body).toMatchObject({
      statusCode: 404,
      message: 'preference dataset "prefs-unknown" not found in context "northwind-conduct"',
    });

    const exported = await call('GET', `${CTX}/preference-datasets/${dataset.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/jsonl/);
    const rows = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => PreferenceRowV1.parse(JSON.parse(line)));
    expect(rows).toHaveLength(dataset.train.examples);
    const gift = rows.find((r) => r.preference_id === preferenceId(pref()));
    expect(gift).toMatchObject({ chosen: [{ role: 'assistant', content: pref().chosen }], values: ['legal_compliance'] });
    expect(gift?.prompt).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: pref().prompt },
    ]);

    // Every preference now shows the weight this version gives it: a human judgement on the top value has priority,
    // agreement and source 1, scaled by the verdict balance (chosen answers opening with "No" outweigh those opening
    // with "Yes" in this dataset, so a "No" pair weighs less than 1).
    const giftPair = dataset.pairs.find((p) => p.preferenceId === preferenceId(pref()));
    expect(giftPair?.components).toMatchObject({ priority: 1, agreement: 1, source: 1 });
    expect(giftPair?.components.verdict).toBeGreaterThan(0);
    expect(giftPair?.components.verdict).toBeLessThan(1);
    const page = await preferences('?limit=100');
    expect(page.items.find((p) => p.id === preferenceId(pref()))?.weight).toBeCloseTo(giftPair?.components.verdict ?? NaN);
    expect(page.items.every((p) => typeof p.weight === 'number')).toBe(true);
  });

  it('records how the value priorities settle annotators who disagree, and shows the resolution', async () => {
    const prompt = 'A journalist asks me to confirm a rumoured layoff. What do I say?';
    const [confirm, decline] = ['Confirm it: honesty matters.', 'Decline to comment and refer them to Communications (§10.2).'];
    const items = [
      pref({ prompt, chosen: decline, rejected: confirm, annotator: 'key:alice', values: ['confidentiality'] }),
      pref({ prompt, chosen: decline, rejected: confirm, annotator: 'key:bob', values: ['confidentiality'] }),
      pref({ prompt, chosen: confirm, rejected: decline, annotator: 'key:dave', values: ['honesty'] }),
    ];
    expect((await call('POST', `${CTX}/preferences`, { items })).body).toMatchObject({ created: 3 });
    const res = await call('POST', `${CTX}/preference-datasets`, { heldOutRatio: 0, sources: ['human'] });
    expect(res.status).toBe(201);
    const dataset = res.body as PreferenceDatasetRecord;
    expect(dataset.bySource).toEqual({ human: 6 });

    const resolutions = (await call('GET', `${CTX}/resolutions`)).body as ResolutionRecord[];
    expect(resolutions).toHaveLength(1);
    expect(resolutions[0]).toMatchObject({
      preferenceDatasetId: dataset.id,
      prompt,
      preferenceIds: expect.arrayContaining(items.map(preferenceId)),
      winnerIds: [preferenceId(items[0] as PreferenceInput), preferenceId(items[1] as PreferenceInput)].sort(),
    });
    expect(resolutions[0]?.reason.length).toBeGreaterThan(0);
    const weight = (p: PreferenceInput) => dataset.pairs.find((pair) => pair.preferenceId === preferenceId(p))?.weight;
    expect(weight(items[2] as PreferenceInput)).toBe(0);
    expect(weight(items[0] as PreferenceInput)).toBeGreaterThan(0);
    // Of an older version, by id; of an unknown one, 404.
    const first = ((await call('GET', `${CTX}/preference-datasets`)).body as { items: PreferenceDatasetRecord[] }).items[1];
    expect((await call('GET', `${CTX}/resolutions?preferenceDatasetId=${first?.id}`)).body).toEqual([]);
    expect((await call('GET', `${CTX}/resolutions?preferenceDatasetId=prefs-unknown`)).status).toBe(404);
    expect(dataset.previousId).toBe(first?.id);
  });
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
