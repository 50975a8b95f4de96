import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError, type AuditRunCompletedV1, type DatasetVersionPublishedV1 } from '@studio/contracts';
import { PUBLISHING, type Publishing } from '@studio/nest';
import { tenantId, type TenantId } from '@studio/ports';
import {
  modelPreferences,
  publishPreferenceDataset,
  recordPreferences,
  syntheticPreferences,
  type PreferenceDatasetRecord,
  type PreferenceInput,
  type PreferenceRecord,
  type PreferenceSource,
  type ResolutionRecord,
} from '@studio/preferences';
import { AUDITOR_CLIENT, type AuditorClient } from '../clients/auditor-client';
import { FRAMER_CLIENT, type FramerClient } from '../clients/framer-client';
import { ServiceAnswerError } from '../clients/service-api';
import { ARTIFACTS, PREFERENCE_REPOSITORIES, type Artifacts, type PreferenceRepositories } from '../reward-model.ports';

/** Generated pairs written per batch. */
const GENERATED_BATCH = 500;

/** A preference as the API shows it: with the weight the newest preference dataset version gives it (null when none considered it). */
export type WeightedPreference = PreferenceRecord & { weight: number | null };

/** No such preference, preference dataset version or context for the tenant (the API's 404). */
export class PreferenceNotFoundError extends Error {
  override readonly name = 'PreferenceNotFoundError';
}

/** The context's values (which weigh preferences) could not be read: nothing is published without them (the API's 503). */
export class ValuesUnavailableError extends Error {
  override readonly name = 'ValuesUnavailableError';
}

/** What stored pairs made from a dataset version or an audit: how many were made and how many were new. */
export interface PairsStored {
  pairs: number;
  created: number;
}

/**
 * The reward-model service's preferences: storing them (from people's feedback, a dataset version's
 * examples, an audit's answers, or posted directly), publishing preference dataset versions weighted
 * by the context's values, and reading all of it back. The use cases are @studio/preferences'; the
 * context's values and the examples and audits pairs are made from come from the services that own
 * them (framer, auditor).
 */
@Injectable()
export class PreferenceBook {
  private readonly logger = new Logger(PreferenceBook.name);

  constructor(
    @Inject(PREFERENCE_REPOSITORIES) private readonly repos: PreferenceRepositories,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(FRAMER_CLIENT) private readonly framer: Pick<FramerClient, 'values' | 'dataset' | 'examples'>,
    @Inject(AUDITOR_CLIENT) private readonly auditor: Pick<AuditorClient, 'report'>,
  ) {}

  private get ports() {
    return { repos: this.repos, artifacts: this.artifacts, bus: this.publishing.bus, eventSource: this.publishing.eventSource };
  }

  /** Stores preferences (idempotent: the same preference again is not created twice). */
  async record(tenant: TenantId, inputs: PreferenceInput[], now?: Date): Promise<{ stored: PreferenceRecord[]; created: number }> {
    return recordPreferences(this.ports, tenant, inputs, now);
  }

  /**
   * Stores generated pairs a batch at a time: a dataset version of a large regulation makes
   * thousands, and each batch written is kept if a later one fails or the event's handler runs out
   * of time (its retry finds them stored and writes the rest).
   */
  private async recordInBatches(tenant: TenantId, inputs: PreferenceInput[], signal?: AbortSignal): Promise<PairsStored> {
    let created = 0;
    for (let i = 0; i < inputs.length; i += GENERATED_BATCH) {
      // The attempt was given up (the bus's handler timeout): its retry continues from what is stored.
      signal?.throwIfAborted();
      created += (await this.record(tenant, inputs.slice(i, i + GENERATED_BATCH))).created;
    }
    return { pairs: inputs.length, created };
  }

  /**
   * Synthetic pairs from a published dataset version's training examples (the held-out ones stay
   * unseen: the audit asks them): for each, the grounded answer against a violating, ungrounded or
   * needlessly refusing one. A version whose examples the framer no longer has (404) or never kept
   * (409: made before examples were stored in full) gives none.
   */
  async fromDatasetVersion(tenant: TenantId, data: DatasetVersionPublishedV1, signal?: AbortSignal): Promise<PairsStored> {
    let examples;
    try {
      examples = await this.framer.examples(tenant, data.contextId, data.datasetVersionId, 'train', signal);
    } catch (error) {
      if (error instanceof ServiceAnswerError && (error.status === 404 || error.status === 409)) {
        this.logger.warn({
          msg: 'no synthetic preferences: the framer has no examples of this dataset version',
          tenantId: tenant,
          contextId: data.contextId,
          datasetVersionId: data.datasetVersionId,
          reason: error.message,
        });
        return { pairs: 0, created: 0 };
      }
      throw error;
    }
    const values = await this.framer.values(tenant, data.contextId, signal);
    const inputs = syntheticPreferences(examples, {
      contextId: data.contextId,
      datasetVersionId: data.datasetVersionId,
      systemPrompt: data.systemPrompt,
      values,
    });
    return this.recordInBatches(tenant, inputs, signal);
  }

  /** Model-produced pairs from a completed audit: the aligned and base answers of its items where their scores disagree strongly. */
  async fromAudit(tenant: TenantId, data: AuditRunCompletedV1, signal?: AbortSignal): Promise<PairsStored> {
    const report = await this.auditor.report(tenant, data.auditRunId, signal);
    const { systemPrompt } = await this.framer.dataset(tenant, data.contextId, report.datasetVersionId, signal);
    const inputs = modelPreferences(report.results, {
      contextId: data.contextId,
      auditId: report.auditRunId,
      runId: report.runId,
      systemPrompt,
    });
    return this.recordInBatches(tenant, inputs, signal);
  }

  /** Aggregates the context's preferences by its values into the next preference dataset version, and publishes it. */
  async publish(
    tenant: TenantId,
    contextId: string,
    options: { heldOutRatio?: number | undefined; sources?: PreferenceSource[] | undefined },
  ): Promise<{ dataset: PreferenceDatasetRecord; created: boolean }> {
    let values;
    try {
      values = await this.framer.values(tenant, contextId);
    } catch (error) {
      throw new ValuesUnavailableError(`the values of context "${contextId}" could not be read from the framer: ${describeError(error)}`, {
        cause: error,
      });
    }
    return publishPreferenceDataset(this.ports, tenant, {
      contextId,
      values,
      ...(options.heldOutRatio === undefined ? {} : { heldOutRatio: options.heldOutRatio }),
      ...(options.sources === undefined ? {} : { sources: options.sources }),
    });
  }

  /** A page of the context's preferences, newest first, with their weights in the newest dataset version. */
  async page(
    tenant: string,
    contextId: string,
    query: { source?: PreferenceSource | undefined; limit: number; offset: number },
  ): Promise<{ items: WeightedPreference[]; total: number }> {
    const filter = { contextId, ...(query.source ? { source: query.source } : {}) };
    const [items, total, weights] = await Promise.all([
      this.repos.preferences.find(tenantId(tenant), filter, { sort: { createdAt: -1 }, skip: query.offset, limit: query.limit }),
      this.repos.preferences.count(tenantId(tenant), filter),
      this.latestWeights(tenant, contextId),
    ]);
    return { items: items.map((p) => ({ ...p, weight: weights.get(p.id) ?? null })), total };
  }

  async preference(tenant: string, contextId: string, id: string): Promise<WeightedPreference> {
    const found = await this.repos.preferences.get(tenantId(tenant), id);
    if (!found || found.contextId !== contextId)
      throw new PreferenceNotFoundError(`preference "${id}" not found in context "${contextId}"`);
    return { ...found, weight: (await this.latestWeights(tenant, contextId)).get(id) ?? null };
  }

  /** The context's preference dataset versions, newest first. */
  async datasets(tenant: string, contextId: string): Promise<PreferenceDatasetRecord[]> {
    return this.repos.preferenceDatasets.find(tenantId(tenant), { contextId }, { sort: { createdAt: -1 }, limit: 1000 });
  }

  async dataset(tenant: string, contextId: string, id: string): Promise<PreferenceDatasetRecord> {
    const found = await this.repos.preferenceDatasets.get(tenantId(tenant), id);
    if (!found || found.contextId !== contextId)
      throw new PreferenceNotFoundError(`preference dataset "${id}" not found in context "${contextId}"`);
    return found;
  }

  /** The train split of a version: TRL preference JSON lines, as written. */
  async exportTrain(tenant: string, contextId: string, id: string): Promise<string> {
    return this.artifacts.read((await this.dataset(tenant, contextId, id)).train.uri);
  }

  /** How conflicts were settled in a version (default: the newest; [] when the context has none yet). */
  async resolutions(tenant: string, contextId: string, preferenceDatasetId?: string): Promise<ResolutionRecord[]> {
    const datasetId = preferenceDatasetId
      ? (await this.dataset(tenant, contextId, preferenceDatasetId)).id
      : (await this.latest(tenant, contextId))?.id;
    if (!datasetId) return [];
    return this.repos.resolutions.find(tenantId(tenant), { contextId, preferenceDatasetId: datasetId }, { limit: 100_000 });
  }

  private async latest(tenant: string, contextId: string): Promise<PreferenceDatasetRecord | null> {
    const [newest] = await this.repos.preferenceDatasets.find(tenantId(tenant), { contextId }, { sort: { createdAt: -1 }, limit: 1 });
    return newest ?? null;
  }

  private async latestWeights(tenant: string, contextId: string): Promise<Map<string, number>> {
    const newest = await this.latest(tenant, contextId);
    return new Map((newest?.pairs ?? []).map((pair) => [pair.preferenceId, pair.weight]));
  }
}
