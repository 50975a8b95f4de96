import { Inject, Injectable, Logger } from '@nestjs/common';
import { DATASET_VERSION_PUBLISHED_V1 } from '@studio/contracts';
import { toConversationalJsonl } from '@studio/framing';
import { EventPublisher } from '@studio/nest';
import { frameDocument, type DatasetVersionRecord } from '@studio/pipeline';
import type { Repository, TenantId } from '@studio/ports';
import { CONTEXTS_REPOSITORY, type ContextSettings } from '../contexts/context-settings';
import { DOCUMENT_ARTIFACTS, type DocumentArtifacts } from '../documents/frame-uploaded-document';
import type { PolicyDocument } from '../documents/policy-document';
import { DOCUMENTS } from '../documents/record-uploaded-document';

export const DATASETS_REPOSITORY = Symbol('DATASETS_REPOSITORY');

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export interface GenerateDatasetVersionInput {
  tenant: TenantId;
  contextId: string;
  /** The framed document to generate from; by default the context's most recently received one. */
  documentId?: string | undefined;
  seed: number;
  heldOutRatio: number;
}

/**
 * "Generate a dataset version for this context": frames the document with the context's values
 * and seeds (template Q&A and scenario examples, seeds, a leakage-free train/held-out split),
 * writes the two splits as immutable JSON lines under `datasets/<version id>/`, records the
 * version and publishes `dataset.version.published`. The version id and hash are content
 * addressed: the same document, values, seeds and seed give the same version, written once.
 */
@Injectable()
export class GenerateDatasetVersion {
  private readonly logger = new Logger(GenerateDatasetVersion.name);

  constructor(
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(DOCUMENTS) private readonly documents: Repository<PolicyDocument>,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: Repository<DatasetVersionRecord>,
    @Inject(DOCUMENT_ARTIFACTS) private readonly artifacts: DocumentArtifacts,
    private readonly events: EventPublisher,
  ) {}

  async execute(input: GenerateDatasetVersionInput): Promise<{ dataset: DatasetVersionRecord; created: boolean }> {
    const { tenant, contextId } = input;
    const context = await this.contexts.get(tenant, contextId);
    if (!context) throw new NotFoundError(`context "${contextId}" not found: create it with POST /v1/contexts`);
    const document = input.documentId
      ? await this.documents.get(tenant, input.documentId)
      : ((await this.documents.find(tenant, { contextId, status: 'framed' }, { sort: { receivedAt: -1 }, limit: 1 }))[0] ?? null);
    if (!document || document.contextId !== contextId) {
      throw new NotFoundError(
        input.documentId
          ? `document "${input.documentId}" not found in context "${contextId}"`
          : `context "${contextId}" has no framed document yet: upload one first`,
      );
    }
    if (document.status !== 'framed')
      throw new NotFoundError(`document "${document.id}" is ${document.status}${document.error ? ` (${document.error})` : ''}, not framed`);

    const framed = frameDocument({
      contextId,
      documentId: document.id,
      filename: document.filename,
      mediaType: document.mediaType,
      content: await this.artifacts.readBytes(document.storageUri),
      values: context.values,
      seedsJsonl: context.seeds,
      seed: input.seed,
      heldOutRatio: input.heldOutRatio,
    });
    const { version } = framed;
    const existed = (await this.datasets.get(tenant, version.id)) !== null;
    const train = await this.artifacts.putImmutable(
      `datasets/${version.id}/train.jsonl`,
      toConversationalJsonl(version.train, version.systemPrompt),
    );
    const heldOut = await this.artifacts.putImmutable(
      `datasets/${version.id}/held-out.jsonl`,
      toConversationalJsonl(version.heldOut, version.systemPrompt),
    );
    const dataset: DatasetVersionRecord = {
      id: version.id,
      contextId,
      sha256: version.sha256,
      documentId: document.id,
      documentSha256: document.sha256,
      systemPrompt: version.systemPrompt,
      train: { uri: train.uri, sha256: train.sha256, examples: version.train.length },
      heldOut: { uri: heldOut.uri, sha256: heldOut.sha256, examples: version.heldOut.length },
      examplesByKind: { ...version.examplesByKind },
      clauseCoverage: version.clauseCoverage ?? 0,
    };
    await this.datasets.upsert(tenant, dataset);
    await this.events.publish(DATASET_VERSION_PUBLISHED_V1, {
      tenantId: tenant,
      contextId,
      subject: version.id,
      id: `published-${version.id}`,
      data: {
        version: 'v1',
        contextId,
        datasetVersionId: version.id,
        sha256: version.sha256,
        format: 'conversational',
        splits: {
          train: { path: train.uri, sha256: train.sha256, examples: dataset.train.examples },
          heldOut: { path: heldOut.uri, sha256: heldOut.sha256, examples: dataset.heldOut.examples },
        },
        examplesByKind: dataset.examplesByKind,
        clauseCoverage: dataset.clauseCoverage,
      },
    });
    this.logger.log({
      msg: existed ? 'dataset version re-published' : 'dataset version generated',
      tenantId: tenant,
      contextId,
      datasetVersionId: version.id,
      train: dataset.train.examples,
      heldOut: dataset.heldOut.examples,
    });
    return { dataset, created: !existed };
  }
}
