import { createHash } from 'node:crypto';
import { buildCloudEvent, PREFERENCE_DATASET_PUBLISHED_V1, type PreferenceDatasetPublishedV1 } from '@studio/contracts';
import { canonicalJson, type ContextValues } from '@studio/framing';
import { tenantKey, type ArtifactStore, type EventBus, type TenantId } from '@studio/ports';
import { aggregatePreferences, normaliseText, preferenceId } from './aggregate';
import {
  PreferenceInput,
  PreferenceSource,
  type PreferenceDatasetRecord,
  type PreferenceRecord,
  type PreferenceRepositories,
  type ResolutionRecord,
} from './records';
import { toTrlJsonl } from './trl';

/** The ports the preference use cases run on (the reward-model service's, or the embedded profile's). */
export interface PreferencePorts {
  repos: PreferenceRepositories;
  artifacts: ArtifactStore;
  bus: EventBus;
  /** CloudEvents `source` of what is published; the CLI's by default. */
  eventSource?: string;
}

export const DEFAULT_PREFERENCE_EVENT_SOURCE = '/studio/cli';
export const DEFAULT_HELD_OUT_RATIO = 0.1;
export const DEFAULT_PREFERENCE_SEED = 42;
/** How many preferences of a context a dataset version may hold (one read of the store). */
export const MAX_PREFERENCES_PER_DATASET = 100_000;

/** A preference input that does not match the schema; names the item and the field. */
export class PreferenceValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreferenceValidationError';
  }
}

/**
 * Nothing could be published: the context has no preferences (of the sources asked for), or the
 * aggregation gave every one of them weight 0. `reason` tells which (the service answers 422/409).
 */
export class NothingToPublishError extends Error {
  constructor(
    readonly reason: 'no-preferences' | 'no-weight',
    message: string,
  ) {
    super(message);
    this.name = 'NothingToPublishError';
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Stores preferences (a person's judgements, generated pairs): each gets its deterministic id
 * (preferenceId) and is written once — the same preference again keeps its first `createdAt`
 * and is not rewritten (idempotent; `created` counts the new ones). Every input is validated
 * before anything is written: a bad one names its position and field, and nothing is stored.
 */
export async function recordPreferences(
  ports: Pick<PreferencePorts, 'repos'>,
  tenant: TenantId,
  inputs: PreferenceInput[],
  now: Date = new Date(),
): Promise<{ stored: PreferenceRecord[]; created: number }> {
  const parsed = inputs.map((input, i) => {
    const result = PreferenceInput.safeParse(input);
    if (!result.success) {
      const detail = result.error.issues.map((issue) => `field "${issue.path.join('.') || '(preference)'}": ${issue.message}`).join('; ');
      throw new PreferenceValidationError(`preference ${i + 1} of ${inputs.length} is invalid: ${detail}`);
    }
    return result.data;
  });
  const ids = parsed.map((input) => preferenceId(input));
  // Those stored before, a few queries for all of them (a dataset version's synthetic pairs are thousands).
  const before = new Map<string, PreferenceRecord>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += RECORD_LOOKUP_BATCH) {
    const found = await ports.repos.preferences.find(tenant, { id: { in: unique.slice(i, i + RECORD_LOOKUP_BATCH) } });
    for (const record of found) before.set(record.id, record);
  }
  const stored: PreferenceRecord[] = [];
  const fresh = new Map<string, PreferenceRecord>();
  parsed.forEach((input, i) => {
    const id = ids[i] as string;
    const existing = fresh.get(id) ?? before.get(id);
    if (existing) {
      stored.push(existing);
      return;
    }
    const record: PreferenceRecord = { ...input, id, createdAt: now.toISOString() };
    fresh.set(id, record);
    stored.push(record);
  });
  if (fresh.size > 0) await ports.repos.preferences.upsertMany(tenant, [...fresh.values()]);
  return { stored, created: fresh.size };
}

/** Preference ids looked up per query by recordPreferences. */
const RECORD_LOOKUP_BATCH = 500;

export interface PublishPreferenceDatasetInput {
  contextId: string;
  /** The context's values file: importance and priorities decide weights and conflicts. */
  values: ContextValues | null;
  /** Share of prompts held out for evaluation (0 ≤ ratio < 1); 0.1 by default. */
  heldOutRatio?: number;
  /** Seed of the held-out split; 42 by default. */
  seed?: number;
  /** Only preferences of these sources; all by default. */
  sources?: PreferenceSource[];
  now?: Date;
}

/** A number in [0, 1) from a seed and a key (the held-out draw of one prompt). */
function draw(seed: number, key: string): number {
  return parseInt(sha256(`${seed}\n${key}`).slice(0, 12), 16) / 2 ** 48;
}

/**
 * Which prompts are held out: each prompt by its own seeded draw (so a prompt stays on its side as
 * the dataset grows), every preference on a prompt on the same side (no leakage). At least one
 * prompt is always kept for training, and at least one held out when there are two prompts or
 * more and the ratio is above 0.
 */
export function heldOutPrompts(promptKeys: readonly string[], ratio: number, seed: number): Set<string> {
  const keys = [...new Set(promptKeys)].sort();
  const draws = new Map(keys.map((k) => [k, draw(seed, k)]));
  const byDraw = [...keys].sort((a, b) => (draws.get(a) as number) - (draws.get(b) as number));
  const held = new Set(keys.filter((k) => (draws.get(k) as number) < ratio));
  if (ratio > 0 && keys.length >= 2 && held.size === 0) held.add(byDraw[0] as string);
  if (keys.length > 0 && held.size === keys.length) held.delete(byDraw[byDraw.length - 1] as string);
  return held;
}

/**
 * "Publish a preference dataset for this context": weighs every preference of the context (of the
 * sources asked for) with the values' priorities (aggregatePreferences), splits the weighted ones
 * into train and held-out by prompt, writes both as TRL preference JSON lines under
 * `preference-datasets/<id>/` (immutable), then records the resolutions and the dataset version,
 * and publishes `preference.dataset.published.v1`. The version before it is the context's latest;
 * `newPreferenceIds` are those it did not have (a round's new preferences).
 *
 * Content addressed and idempotent: the same preferences, weights and split give the same version,
 * written once (it keeps its first `createdAt` and previous version) and re-stated with the same
 * event id. Files are written before records, so a failure leaves no record pointing at nothing.
 * Refuses (NothingToPublishError) when there are no preferences or every weight is 0.
 */
export async function publishPreferenceDataset(
  ports: PreferencePorts,
  tenant: TenantId,
  input: PublishPreferenceDatasetInput,
): Promise<{ dataset: PreferenceDatasetRecord; created: boolean }> {
  const { contextId } = input;
  const ratio = input.heldOutRatio ?? DEFAULT_HELD_OUT_RATIO;
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`heldOutRatio must be at least 0 and below 1, got ${ratio}`);
  const seed = input.seed ?? DEFAULT_PREFERENCE_SEED;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const sources = input.sources ? [...new Set(input.sources.map((s) => PreferenceSource.parse(s)))].sort() : null;
  if (sources && sources.length === 0) throw new Error('sources must name at least one source (or be left out for all)');

  const prefs = await ports.repos.preferences.find(
    tenant,
    { contextId, ...(sources ? { source: { in: sources } } : {}) },
    { sort: { createdAt: 1, id: 1 }, limit: MAX_PREFERENCES_PER_DATASET + 1 },
  );
  const which = sources ? ` of source ${sources.join(', ')}` : '';
  if (prefs.length === 0)
    throw new NothingToPublishError('no-preferences', `context "${contextId}" has no preferences${which} to publish: record some first`);
  if (prefs.length > MAX_PREFERENCES_PER_DATASET)
    throw new Error(`context "${contextId}" has more than ${MAX_PREFERENCES_PER_DATASET} preferences${which}: publish by source`);

  const { pairs, resolutions } = aggregatePreferences(prefs, input.values);
  const weights = new Map(pairs.map((p) => [p.preferenceId, p.weight]));
  const weighted = prefs.filter((p) => (weights.get(p.id) as number) > 0);
  if (weighted.length === 0)
    throw new NothingToPublishError(
      'no-weight',
      `every one of the ${prefs.length} preferences${which} of context "${contextId}" weighs 0 (their values have importance 0, or every conflict left them out): nothing to train on`,
    );
  const held = heldOutPrompts(
    weighted.map((p) => normaliseText(p.prompt)),
    ratio,
    seed,
  );
  const trainRows = weighted.filter((p) => !held.has(normaliseText(p.prompt)));
  const heldOutRows = weighted.filter((p) => held.has(normaliseText(p.prompt)));
  const trainJsonl = toTrlJsonl(trainRows, weights);
  const heldOutJsonl = toTrlJsonl(heldOutRows, weights);
  const valuesSha256 = input.values ? sha256(canonicalJson(input.values)) : null;
  const content = sha256(
    canonicalJson({
      contextId,
      pairs,
      train: sha256(trainJsonl),
      heldOut: sha256(heldOutJsonl),
      resolutions,
    }),
  );
  const id = `prefs-${content.slice(0, 32)}`;

  const existing = await ports.repos.preferenceDatasets.get(tenant, id);
  const previous =
    existing === null
      ? ((await ports.repos.preferenceDatasets.find(tenant, { contextId }, { sort: { createdAt: -1 }, limit: 1 }))[0] ?? null)
      : null;
  const previousId = existing ? existing.previousId : (previous?.id ?? null);
  const before = new Set(previous?.preferenceIds ?? []);
  const newPreferenceIds = existing ? existing.newPreferenceIds : prefs.map((p) => p.id).filter((i) => !before.has(i));

  const train = await ports.artifacts.putImmutable(tenantKey(tenant, `preference-datasets/${id}/train.jsonl`), trainJsonl);
  const heldOut = await ports.artifacts.putImmutable(tenantKey(tenant, `preference-datasets/${id}/held-out.jsonl`), heldOutJsonl);

  const bySource: Record<string, number> = {};
  for (const p of prefs) bySource[p.source] = (bySource[p.source] ?? 0) + 1;
  const dataset: PreferenceDatasetRecord = {
    id,
    contextId,
    sha256: content,
    previousId,
    preferenceIds: prefs.map((p) => p.id),
    newPreferenceIds,
    pairs,
    train: { uri: train.uri, sha256: train.sha256, examples: trainRows.length },
    heldOut: { uri: heldOut.uri, sha256: heldOut.sha256, examples: heldOutRows.length },
    bySource,
    resolutions: resolutions.length,
    valuesSha256,
    createdAt: existing?.createdAt ?? (input.now ?? new Date()).toISOString(),
  };
  const resolutionRecords: ResolutionRecord[] = resolutions.map((r, i) => ({
    ...r,
    id: `${id}.r${i + 1}`,
    contextId,
    preferenceDatasetId: id,
  }));
  // Resolutions first: a dataset record is only ever there with its resolutions.
  if (resolutionRecords.length > 0) await ports.repos.resolutions.upsertMany(tenant, resolutionRecords);
  await ports.repos.preferenceDatasets.upsert(tenant, dataset);

  const data: PreferenceDatasetPublishedV1 = {
    version: 'v1',
    contextId,
    preferenceDatasetId: id,
    sha256: content,
    previousId,
    pairs: pairs.length,
    newPairs: dataset.newPreferenceIds.length,
    bySource,
    resolutions: resolutions.length,
    train: { path: train.uri, sha256: train.sha256, examples: dataset.train.examples },
    heldOut: { path: heldOut.uri, sha256: heldOut.sha256, examples: dataset.heldOut.examples },
  };
  await ports.bus.publish(
    PREFERENCE_DATASET_PUBLISHED_V1,
    buildCloudEvent<PreferenceDatasetPublishedV1>({
      topic: PREFERENCE_DATASET_PUBLISHED_V1,
      source: ports.eventSource ?? DEFAULT_PREFERENCE_EVENT_SOURCE,
      tenantId: tenant,
      contextId,
      subject: id,
      id: `published-${id}`,
      data,
    }),
  );
  return { dataset, created: existing === null };
}
