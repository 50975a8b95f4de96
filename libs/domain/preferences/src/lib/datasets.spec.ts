import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PREFERENCE_DATASET_PUBLISHED_V1,
  PreferenceRowV1,
  type CloudEvent,
  type EventData,
  type PreferenceDatasetPublishedV1,
  type Topic,
} from '@studio/contracts';
import { InMemoryArtifactStore, InProcessEventBus, SqliteStore } from '@studio/inproc';
import { tenantId, type ArtifactStore, type EventBus } from '@studio/ports';
import { preferenceId } from './aggregate';
import {
  heldOutPrompts,
  NothingToPublishError,
  PreferenceValidationError,
  publishPreferenceDataset,
  recordPreferences,
  type PreferencePorts,
} from './datasets';
import { CONTEXT, input, valuesFile } from './fixtures.spec-helper';
import { preferenceRepositories, type PreferenceInput } from './records';

const TENANT = tenantId('acme');
const T0 = new Date('2026-12-01T10:00:00.000Z');
const T1 = new Date('2026-12-01T11:00:00.000Z');

/** Publishes through the in-process bus (which validates every event) and records each call. */
class RecordingBus implements EventBus {
  readonly published: Array<{ topic: Topic; event: CloudEvent<unknown> }> = [];
  constructor(private readonly inner: InProcessEventBus) {}
  async publish<T extends Topic>(topic: T, event: CloudEvent<EventData<T>>): Promise<void> {
    await this.inner.publish(topic, event);
    this.published.push({ topic, event });
  }
  subscribe(): void {
    throw new Error('not used');
  }
  start(): Promise<void> {
    return this.inner.start();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
}

interface Harness extends PreferencePorts {
  bus: RecordingBus;
  artifacts: InMemoryArtifactStore;
  close(): Promise<void>;
}

let h: Harness;
beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-prefs-'));
  const store = SqliteStore.open(dir, 'reward-model');
  const bus = new RecordingBus(new InProcessEventBus({ retry: { maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 1 } }));
  await bus.start();
  h = {
    repos: preferenceRepositories((spec) => store.repository(spec)),
    artifacts: new InMemoryArtifactStore(),
    bus,
    eventSource: '/studio/reward-model',
    async close() {
      await bus.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
afterEach(() => h.close());

/** `n` prompts, each with a synthetic pair tagged with `values`. */
const synthetic = (n: number, values: string[] = ['honesty'], from = 0): PreferenceInput[] =>
  Array.from({ length: n }, (_, i) =>
    input({
      prompt: `Question number ${from + i}?`,
      chosen: `Grounded answer ${from + i} (§1.${from + i}).`,
      rejected: `Wrong answer ${from + i}.`,
      source: 'synthetic',
      annotator: 'framer',
      values,
    }),
  );

const rowsOf = async (uri: string) =>
  (await h.artifacts.read(uri))
    .split('\n')
    .filter(Boolean)
    .map((l) => PreferenceRowV1.parse(JSON.parse(l)));

const publishedEvents = () =>
  h.bus.published
    .filter((p) => p.topic === PREFERENCE_DATASET_PUBLISHED_V1)
    .map((p) => p.event as CloudEvent<PreferenceDatasetPublishedV1>);

describe('recordPreferences', () => {
  it('stores each preference under its deterministic id, once', async () => {
    const inputs = synthetic(2);
    const first = await recordPreferences(h, TENANT, inputs, T0);
    expect(first.created).toBe(2);
    expect(first.stored.map((p) => p.id)).toEqual(inputs.map((i) => preferenceId(i)));
    expect(first.stored[0]?.createdAt).toBe(T0.toISOString());
    expect(await h.repos.preferences.get(TENANT, first.stored[0]?.id as string)).toEqual(first.stored[0]);

    // Again, with one new: the stored ones keep their first time, the new one is created.
    const again = await recordPreferences(h, TENANT, [...inputs, ...synthetic(1, ['honesty'], 5)], T1);
    expect(again.created).toBe(1);
    expect(again.stored.map((p) => p.createdAt)).toEqual([T0.toISOString(), T0.toISOString(), T1.toISOString()]);
    expect(await h.repos.preferences.count(TENANT, { contextId: CONTEXT })).toBe(3);
  });

  it('stores a preference given twice in one call once', async () => {
    const [one] = synthetic(1);
    const result = await recordPreferences(
      h,
      TENANT,
      [one as PreferenceInput, { ...(one as PreferenceInput), explanation: 'same pair' }],
      T0,
    );
    expect(result.created).toBe(1);
    expect(result.stored[1]).toBe(result.stored[0]);
  });

  it('refuses a bad preference, naming its position and field, and stores none of the batch', async () => {
    const bad = { ...input(), chosen: '' };
    await expect(recordPreferences(h, TENANT, [...synthetic(1), bad], T0)).rejects.toThrow(
      new PreferenceValidationError('preference 2 of 2 is invalid: field "chosen": Too small: expected string to have >=1 characters'),
    );
    await expect(recordPreferences(h, TENANT, [{ ...input(), source: 'crowd' as never }])).rejects.toThrow(
      /preference 1 of 1 is invalid: field "source"/,
    );
    expect(await h.repos.preferences.count(TENANT)).toBe(0);
  });
});

describe('publishPreferenceDataset', () => {
  it('refuses when the context has no preferences, writing and publishing nothing', async () => {
    const err = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NothingToPublishError);
    expect(err).toMatchObject({
      reason: 'no-preferences',
      message: 'context "acme-conduct" has no preferences to publish: record some first',
    });
    await recordPreferences(h, TENANT, synthetic(2), T0);
    await expect(publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, sources: ['human'] })).rejects.toThrow(
      'context "acme-conduct" has no preferences of source human to publish',
    );
    expect(publishedEvents()).toEqual([]);
  });

  it('refuses when every weight is 0, writing and publishing nothing', async () => {
    await recordPreferences(h, TENANT, synthetic(3, ['helpfulness']), T0);
    const err = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: valuesFile({ helpfulness: 0 }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NothingToPublishError);
    expect((err as NothingToPublishError).reason).toBe('no-weight');
    expect((err as Error).message).toMatch(/every one of the 3 preferences of context "acme-conduct" weighs 0/);
    expect(await h.repos.preferenceDatasets.count(TENANT)).toBe(0);
    expect(publishedEvents()).toEqual([]);
  });

  it('writes the weighted preferences as train and held-out TRL rows, records the version and publishes it', async () => {
    const stored = (await recordPreferences(h, TENANT, [...synthetic(20), ...synthetic(2, ['helpfulness'], 100)], T0)).stored;
    const values = valuesFile({ helpfulness: 0 });
    const { dataset, created } = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values, now: T1 });
    expect(created).toBe(true);
    expect(dataset.id).toMatch(/^prefs-[0-9a-f]{32}$/);
    expect(dataset.previousId).toBeNull();
    // In the order they were stored, then by id (all were stored at T0 here).
    expect(dataset.preferenceIds).toEqual(stored.map((p) => p.id).sort());
    expect(dataset.newPreferenceIds).toEqual(dataset.preferenceIds);
    // Every preference is weighed; the two of a zero-importance value weigh 0 and are in neither file.
    const zero = new Set(stored.slice(20).map((p) => p.id));
    expect(dataset.pairs.map((p) => p.preferenceId)).toEqual(dataset.preferenceIds);
    expect(dataset.pairs.map((p) => p.weight)).toEqual(dataset.preferenceIds.map((id) => (zero.has(id) ? 0 : 0.25)));
    expect(dataset.train.examples + dataset.heldOut.examples).toBe(20);
    expect(dataset.heldOut.examples).toBeGreaterThanOrEqual(1);
    expect(dataset.bySource).toEqual({ synthetic: 22 });
    expect(dataset.createdAt).toBe(T1.toISOString());
    expect(dataset.valuesSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await h.repos.preferenceDatasets.get(TENANT, dataset.id)).toEqual(dataset);

    const train = await rowsOf(dataset.train.uri);
    const heldOut = await rowsOf(dataset.heldOut.uri);
    expect(train).toHaveLength(dataset.train.examples);
    expect(heldOut).toHaveLength(dataset.heldOut.examples);
    expect(dataset.train.uri).toBe(`memory:///tenants/acme/preference-datasets/${dataset.id}/train.jsonl`);
    const ids = [...train, ...heldOut].map((r) => r.preference_id);
    expect(new Set(ids).size).toBe(20);
    expect([...train, ...heldOut].every((r) => r.weight === 0.25 && r.prompt[0]?.role === 'system')).toBe(true);

    const [event, ...more] = publishedEvents();
    expect(more).toEqual([]);
    expect(event?.id).toBe(`published-${dataset.id}`);
    expect(event?.source).toBe('/studio/reward-model');
    expect(event?.data).toEqual({
      version: 'v1',
      contextId: CONTEXT,
      preferenceDatasetId: dataset.id,
      sha256: dataset.sha256,
      previousId: null,
      pairs: 22,
      newPairs: 22,
      bySource: { synthetic: 22 },
      resolutions: 0,
      train: { path: dataset.train.uri, sha256: dataset.train.sha256, examples: dataset.train.examples },
      heldOut: { path: dataset.heldOut.uri, sha256: dataset.heldOut.sha256, examples: dataset.heldOut.examples },
    });
  });

  it('is idempotent: the same preferences again are the same version, its first time kept, the same event re-stated', async () => {
    await recordPreferences(h, TENANT, synthetic(6), T0);
    const first = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, now: T0 });
    const again = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, now: T1 });
    expect(again.created).toBe(false);
    expect(again.dataset).toEqual(first.dataset);
    expect(publishedEvents().map((e) => e.id)).toEqual([`published-${first.dataset.id}`, `published-${first.dataset.id}`]);
    expect(await h.repos.preferenceDatasets.count(TENANT)).toBe(1);
  });

  it('makes a round: the next version names the previous one and the preferences new since', async () => {
    await recordPreferences(h, TENANT, synthetic(6), T0);
    const v1 = (await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, now: T0 })).dataset;
    const added = (await recordPreferences(h, TENANT, synthetic(2, ['honesty'], 50), T1)).stored;
    const v2 = (await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, now: T1 })).dataset;
    expect(v2.id).not.toBe(v1.id);
    expect(v2.previousId).toBe(v1.id);
    expect(v2.preferenceIds).toEqual([...v1.preferenceIds, ...added.map((p) => p.id).sort()]);
    expect(v2.newPreferenceIds).toEqual(added.map((p) => p.id).sort());
    expect(publishedEvents()[1]?.data).toMatchObject({ previousId: v1.id, pairs: 8, newPairs: 2 });
  });

  it('records the resolutions of conflicts with the version, and leaves the losers out of the files', async () => {
    const winner = input({ annotator: 'key:bob', chosen: 'No (§1.1).', rejected: 'Yes.', values: ['safety'] });
    const loser = input({ annotator: 'key:alice', chosen: 'Yes.', rejected: 'No (§1.1).', values: ['helpfulness'] });
    await recordPreferences(h, TENANT, [loser, winner, ...synthetic(3)], T0);
    const { dataset } = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: valuesFile(), heldOutRatio: 0 });
    expect(dataset.resolutions).toBe(1);
    const resolutions = await h.repos.resolutions.find(TENANT, { preferenceDatasetId: dataset.id });
    expect(resolutions).toEqual([
      expect.objectContaining({
        id: `${dataset.id}.r1`,
        contextId: CONTEXT,
        kind: 'annotators-disagree',
        preferenceIds: expect.arrayContaining([preferenceId(loser), preferenceId(winner)]),
        winnerIds: [preferenceId(winner)],
        winningValue: 'safety',
      }),
    ]);
    const rows = await rowsOf(dataset.train.uri);
    expect(rows.map((r) => r.preference_id)).not.toContain(preferenceId(loser));
    expect(rows.find((r) => r.preference_id === preferenceId(winner))?.weight).toBe(0.375);
    expect(dataset.heldOut.examples).toBe(0);
  });

  it('splits by prompt, deterministically by seed: the same seed gives the same split, pairs of a prompt stay together', async () => {
    const twice = synthetic(30).flatMap((p) => [p, { ...p, annotator: 'key:alice', source: 'human' as const }]);
    await recordPreferences(h, TENANT, twice, T0);
    const split = async (seed: number) => {
      const { dataset } = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, seed, heldOutRatio: 0.2 });
      return { dataset, held: (await rowsOf(dataset.heldOut.uri)).map((r) => r.prompt.at(-1)?.content) };
    };
    const a = await split(7);
    const b = await split(7);
    expect(b.dataset.id).toBe(a.dataset.id);
    expect(b.held).toEqual(a.held);
    // Both preferences of a held-out prompt are held out.
    const counts = new Map<string | undefined, number>();
    for (const p of a.held) counts.set(p, (counts.get(p) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    const others = await Promise.all([8, 9, 10].map(split));
    expect(others.some((o) => JSON.stringify(o.held) !== JSON.stringify(a.held))).toBe(true);
  });

  it('always keeps a prompt for training, and holds one out when there are two or more', () => {
    expect(heldOutPrompts(['only'], 0.99, 1).size).toBe(0);
    const two = heldOutPrompts(['a', 'b'], 0.99, 1);
    expect(two.size).toBe(1);
    expect(heldOutPrompts(['a', 'b'], 0.001, 1).size).toBe(1);
    expect(heldOutPrompts(['a', 'b', 'c'], 0, 1).size).toBe(0);
    // A prompt keeps its side as others are added (its own draw decides).
    const many = Array.from({ length: 200 }, (_, i) => `prompt ${i}`);
    const before = heldOutPrompts(many.slice(0, 100), 0.2, 5);
    const after = heldOutPrompts(many, 0.2, 5);
    expect([...before].every((k) => after.has(k))).toBe(true);
    expect(after.size / many.length).toBeGreaterThan(0.1);
    expect(after.size / many.length).toBeLessThan(0.3);
  });

  it('takes only the sources asked for', async () => {
    await recordPreferences(h, TENANT, [...synthetic(3), input({ prompt: 'A person asked?' })], T0);
    const { dataset } = await publishPreferenceDataset(h, TENANT, {
      contextId: CONTEXT,
      values: null,
      sources: ['human'],
      heldOutRatio: 0,
    });
    expect(dataset.bySource).toEqual({ human: 1 });
    expect(dataset.pairs).toHaveLength(1);
  });

  it('refuses a held-out ratio outside [0, 1) and an unknown source', async () => {
    await expect(publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, heldOutRatio: 1 })).rejects.toThrow(
      'heldOutRatio must be at least 0 and below 1, got 1',
    );
    await expect(publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null, sources: ['crowd' as never] })).rejects.toThrow();
  });

  it('leaves no record and publishes nothing when a file cannot be written', async () => {
    await recordPreferences(h, TENANT, synthetic(4), T0);
    const inner = h.artifacts;
    let writes = 0;
    const failing: ArtifactStore = Object.assign(Object.create(inner) as ArtifactStore, {
      putImmutable: async (key: string, content: string | Uint8Array) => {
        if (++writes === 2) throw new Error('disk full');
        return inner.putImmutable(key, content);
      },
    });
    await expect(publishPreferenceDataset({ ...h, artifacts: failing }, TENANT, { contextId: CONTEXT, values: null })).rejects.toThrow(
      'disk full',
    );
    expect(await h.repos.preferenceDatasets.count(TENANT)).toBe(0);
    expect(publishedEvents()).toEqual([]);
    // The same publish later completes (the file written first is the same immutable file).
    const { created } = await publishPreferenceDataset(h, TENANT, { contextId: CONTEXT, values: null });
    expect(created).toBe(true);
  });
});
