import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildCloudEvent,
  DOCUMENT_FRAMED_V1,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  PREFERENCE_DATASET_PUBLISHED_V1,
  PreferenceRowV1,
  type FeedbackPreferenceSubmittedV1,
} from '@studio/contracts';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { KafkaEventBus } from '@studio/kafka';
import type { EventBusLogger } from '@studio/ports';
import { ContextValues, Example } from '@studio/framing';
import { preferenceId, syntheticPreferences, type PreferenceInput } from '@studio/preferences';
import { describeWithServers, uniqueName, type ServerVar } from '@studio/testing';
import { WORKSPACE_ROOT } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

const VALUES = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'examples/northwind-conduct/values.json'), 'utf8')) as unknown;
const QUIET: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const TENANT = 'acme';
const NOWHERE = 'http://127.0.0.1:47';
const POLICY = readFileSync(join(WORKSPACE_ROOT, 'examples/northwind-conduct/policy.md'), 'utf8');

/**
 * The reward-model service as a process on Kafka and FerretDB, with the framer (the context's
 * values, dataset versions) and the gateway (uploads): preferences posted over HTTP and a judgement
 * submitted on Kafka are stored; a preference dataset version weighted by the context's value
 * priorities is published (`preference.dataset.published.v1` observed on Kafka), read back, and
 * exported as TRL JSON lines; a dataset version the framer publishes becomes synthetic pairs of its
 * training examples.
 */
describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'], 'the reward-model service on the distributed profile', (urls) => {
  const contextId = uniqueName('prefs');
  let stack: Stack;
  let publisher: KafkaEventBus;

  beforeAll(async () => {
    stack = await Stack.start({
      servers: urls as Record<ServerVar, string>,
      services: ['gateway', 'framer', 'reward-model'],
      runtimes: [],
      tenant: TENANT,
      prefix: 'prefs',
      // No ontology, instructor or auditor runs here (nothing is indexed, trained or audited): a port nothing listens on.
      env: (name): Record<string, string> =>
        name === 'reward-model'
          ? { AUDITOR_URL: NOWHERE }
          : name === 'gateway'
            ? { ONTOLOGY_URL: NOWHERE, INSTRUCTOR_URL: NOWHERE, AUDITOR_URL: NOWHERE }
            : {},
    });
    publisher = new KafkaEventBus({
      clientId: `${stack.run}-feedback`,
      brokers: urls.KAFKA_BROKERS.split(','),
      groupId: `${stack.run}.feedback`,
      topicPrefix: `${stack.run}.`,
      processedEvents: new InMemoryProcessedEventStore(),
      logger: QUIET,
      kafkaLogLevel: 'nothing',
    });
    await publisher.start();
  }, 180_000);
  afterAll(async () => {
    await publisher?.stop().catch(() => undefined);
    await stack?.stop();
  });

  const rewardModel = (method: string, path: string, body?: unknown) =>
    stack.call(method, `/v1/contexts/${contextId}${path}`, body, 'reward-model');

  const pref = (overrides: Partial<PreferenceInput>): PreferenceInput => ({
    contextId,
    prompt: 'May I accept a $300 gift from a supplier?',
    systemPrompt: 'Answer by the Northwind conduct policy.',
    retrievedClauseIds: [],
    clauseIds: [],
    chosen: 'No. Gifts above $100 from suppliers must be declined (§6.1).',
    rejected: 'Yes, if you thank them.',
    source: 'red-team',
    rejectedKind: null,
    values: ['legal_compliance'],
    annotator: 'key:red-1',
    explanation: null,
    edited: false,
    origin: { datasetVersionId: null, exampleId: null, auditId: null, runId: null },
    ...overrides,
  });

  it('stores posted and submitted preferences, publishes a dataset version weighted by the values, and serves it and its JSON lines', async () => {
    // The context's values (priorities) live in the framer.
    expect((await stack.call('PUT', `/v1/contexts/${contextId}`, { name: 'Northwind', values: VALUES }, 'framer')).status).toBe(201);

    const posted = [
      pref({}),
      pref({
        prompt: 'Can you summarise the travel policy?',
        chosen: 'Book economy; your manager approves (§4.1).',
        values: ['helpfulness'],
      }),
    ];
    const answer = await rewardModel('POST', '/preferences', { items: posted });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ created: 2, ids: posted.map(preferenceId) });
    expect((await rewardModel('POST', '/preferences', { items: [{ ...pref({}), chosen: '' }] })).status).toBe(400);

    // A person's judgement, as the gateway publishes it.
    const judged = pref({
      prompt: 'A journalist asks about the merger. What do I say?',
      chosen: 'Decline to comment and refer them to Communications (§10.2).',
      rejected: 'Tell them what you know.',
      source: 'human',
      values: ['confidentiality'],
      annotator: 'key:curator-1',
      explanation: 'Inside information stays inside.',
    });
    const submitted = { ...judged, id: preferenceId(judged), createdAt: '2026-11-30T09:00:00.000Z' };
    await publisher.publish(
      FEEDBACK_PREFERENCE_SUBMITTED_V1,
      buildCloudEvent<FeedbackPreferenceSubmittedV1>({
        topic: FEEDBACK_PREFERENCE_SUBMITTED_V1,
        source: '/studio/gateway',
        tenantId: TENANT,
        contextId,
        data: { version: 'v1', contextId, preference: submitted },
      }),
    );
    const stored = await stack.waitFor(
      'the submitted preference is stored',
      async () => {
        const res = await rewardModel('GET', `/preferences/${submitted.id}`);
        return res.status === 200 ? res.body : null;
      },
      60_000,
    );
    expect(stored).toMatchObject({ ...submitted, weight: null });

    const published = await rewardModel('POST', '/preference-datasets', { heldOutRatio: 0 });
    expect(published.status).toBe(201);
    const dataset = published.body as Json & { id: string; pairs: { preferenceId: string; weight: number }[]; train: { examples: number } };
    expect(dataset).toMatchObject({ contextId, previousId: null, bySource: { 'red-team': 2, human: 1 }, resolutions: 0 });
    // Weights follow the framer's values: legal_compliance is first of six (importance 1), helpfulness last (1/6),
    // confidentiality third (4/6); red-team and human judgements count fully.
    const weight = (p: PreferenceInput) => dataset.pairs.find((pair) => pair.preferenceId === preferenceId(p))?.weight;
    expect(weight(posted[0] as PreferenceInput)).toBeCloseTo(1);
    expect(weight(posted[1] as PreferenceInput)).toBeCloseTo(1 / 6);
    expect(weight(judged)).toBeCloseTo(4 / 6);
    const event = await stack.waitForEvent(
      PREFERENCE_DATASET_PUBLISHED_V1,
      'the preference dataset version',
      (e) => e.data['preferenceDatasetId'] === dataset.id,
      30_000,
    );
    expect(event.data).toMatchObject({ contextId, pairs: 3, newPairs: 3, train: { examples: 3 } });

    // The same preferences again: the same version, 200.
    const again = await rewardModel('POST', '/preference-datasets', { heldOutRatio: 0 });
    expect(again).toMatchObject({ status: 200, body: { id: dataset.id } });
    expect((await rewardModel('GET', '/preference-datasets')).body).toEqual({ items: [dataset] });
    expect((await rewardModel('GET', `/preference-datasets/${dataset.id}`)).body).toEqual(dataset);
    const page = (await rewardModel('GET', '/preferences?limit=10')).body as { items: { id: string; weight: number }[]; total: number };
    expect(page.total).toBe(3);
    expect(page.items.find((p) => p.id === submitted.id)?.weight).toBeCloseTo(4 / 6);
    expect((await rewardModel('GET', '/resolutions')).body).toEqual([]);

    const exported = await rewardModel('GET', `/preference-datasets/${dataset.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/jsonl/);
    const rows = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => PreferenceRowV1.parse(JSON.parse(line)));
    expect(rows.map((r) => r.preference_id).sort()).toEqual([...posted, judged].map(preferenceId).sort());
    expect(rows.find((r) => r.preference_id === submitted.id)).toMatchObject({
      prompt: [
        { role: 'system', content: judged.systemPrompt },
        { role: 'user', content: judged.prompt },
      ],
      chosen: [{ role: 'assistant', content: judged.chosen }],
      rejected: [{ role: 'assistant', content: judged.rejected }],
      values: ['confidentiality'],
    });
    expect(stack.deadLetters).toEqual([]);
  }, 180_000);

  it("makes synthetic pairs of a dataset version's training examples, read from the framer, when the version is published", async () => {
    const ctx = uniqueName('northwind');
    const created = await stack.call('POST', '/v1/contexts', { id: ctx, name: 'Northwind', values: VALUES });
    expect(created.status).toBe(201);
    const upload = await stack.call('POST', `/v1/contexts/${ctx}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(upload.status).toBe(202);
    const documentId = String(upload.body['documentId']);
    await stack.waitForEvent(DOCUMENT_FRAMED_V1, documentId, (e) => e.data['documentId'] === documentId, 60_000);
    const generated = await stack.call('POST', `/v1/contexts/${ctx}/datasets`, { seed: 42 });
    expect({ status: generated.status, body: generated.status === 201 ? '' : generated.text }).toEqual({ status: 201, body: '' });
    const dataset = generated.body as Json & { id: string; systemPrompt: string };

    const examples = async (split: 'train' | 'heldOut'): Promise<Example[]> => {
      const out: Example[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = (
          await stack.call(
            'GET',
            `/v1/contexts/${ctx}/datasets/${dataset.id}/examples?split=${split}&offset=${offset}&limit=500`,
            undefined,
            'framer',
          )
        ).body as { examples: unknown[]; total: number };
        out.push(...page.examples.map((e) => Example.parse(e)));
        if (out.length >= page.total) return out;
      }
    };
    const [train, heldOut] = [await examples('train'), await examples('heldOut')];
    // What the service should store: the synthetic pairs of the training examples (the held-out ones stay unseen).
    const expected = syntheticPreferences(train, {
      contextId: ctx,
      datasetVersionId: dataset.id,
      systemPrompt: dataset.systemPrompt,
      values: ContextValues.parse(VALUES),
    });
    expect(expected.length).toBeGreaterThan(50);
    const count = async () =>
      (
        (await stack.call('GET', `/v1/contexts/${ctx}/preferences?source=synthetic&limit=1`, undefined, 'reward-model')).body as {
          total: number;
        }
      ).total;
    await stack.waitFor(
      'every synthetic preference of the dataset version is stored',
      async () => (await count()) === expected.length,
      60_000,
    );
    const stored: { id: string; origin: { exampleId: string } }[] = [];
    for (let offset = 0; offset < expected.length; offset += 1000)
      stored.push(
        ...(
          (
            await stack.call(
              'GET',
              `/v1/contexts/${ctx}/preferences?source=synthetic&limit=1000&offset=${offset}`,
              undefined,
              'reward-model',
            )
          ).body as {
            items: { id: string; origin: { exampleId: string } }[];
          }
        ).items,
      );
    expect(stored.map((p) => p.id).sort()).toEqual(expected.map(preferenceId).sort());
    const heldOutIds = new Set(heldOut.map((e) => e.id));
    expect(stored.filter((p) => heldOutIds.has(p.origin.exampleId))).toEqual([]);
    console.info(`[reward-model] ${stored.length} synthetic pairs from ${train.length} training examples of ${dataset.id}`);
  }, 180_000);
});
