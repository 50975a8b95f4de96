import { ContextId, DocumentUploadedV1, Id, IsoTime, Metrics, NonNegativeInt, Sha256, TrainingHyperparameters } from '@studio/contracts';
import type { EntitySpec, Repository } from '@studio/ports';
import { z } from 'zod';

/**
 * What the pipeline stores, one zod schema per entity, with the collection it lives in (the
 * repositories validate on write and read). Both profiles store these same records: the
 * embedded one in SQLite, the services in their own MongoDB databases. Ids are deterministic,
 * so every write is an idempotent upsert.
 */

/** A policy document: where its bytes are, and how far framing got. */
export const DocumentRecord = z.object({
  id: Id.describe('document id: a hash of tenant, context and content'),
  contextId: ContextId,
  filename: z.string().min(1),
  mediaType: DocumentUploadedV1.shape.mediaType,
  sha256: Sha256,
  sizeBytes: NonNegativeInt,
  storageUri: z.string().min(1).describe('Where the original bytes are: the artifact store once framed, the upload’s URI before'),
  status: z.enum(['received', 'framed', 'rejected']),
  title: z.string().nullable(),
  clauseCount: NonNegativeInt.nullable(),
  statementCount: NonNegativeInt.nullable(),
  /** The clauses as JSON lines in the artifact store (what `policy.document.framed` points consumers to). */
  clausesUri: z.string().min(1).nullable(),
  error: z.string().nullable().describe('Why a rejected document could not be framed'),
  receivedAt: IsoTime,
  uploadEventId: Id,
});
export type DocumentRecord = z.infer<typeof DocumentRecord>;

export const DOCUMENTS: EntitySpec<DocumentRecord> = {
  collection: 'documents',
  schema: DocumentRecord,
  indexes: [{ fields: { contextId: 1, receivedAt: -1 } }],
};

/** A clause of a framed document. Its id is stable: document, numbering path and content hash. */
export const ClauseRecord = z.object({
  id: Id.describe('stable clause id: document, numbering path and content hash'),
  contextId: ContextId,
  documentId: Id,
  position: NonNegativeInt.describe('order of the clause in its document'),
  numbering: z.string().min(1),
  title: z.string().nullable(),
  text: z.string().min(1),
});
export type ClauseRecord = z.infer<typeof ClauseRecord>;

export const CLAUSES: EntitySpec<ClauseRecord> = {
  collection: 'clauses',
  schema: ClauseRecord,
  indexes: [{ fields: { contextId: 1, documentId: 1, position: 1 } }],
};

export const DatasetSplitRecord = z.object({
  uri: z.string().min(1),
  sha256: Sha256,
  examples: NonNegativeInt,
});

export const DatasetVersionRecord = z.object({
  id: Id,
  contextId: ContextId,
  sha256: Sha256,
  documentId: Id,
  documentSha256: Sha256,
  systemPrompt: z.string().min(1),
  train: DatasetSplitRecord,
  heldOut: DatasetSplitRecord,
  examplesByKind: z.record(z.string(), NonNegativeInt),
  clauseCoverage: z.number().min(0).max(1),
  createdAt: IsoTime,
});
export type DatasetVersionRecord = z.infer<typeof DatasetVersionRecord>;

export const DATASET_VERSIONS: EntitySpec<DatasetVersionRecord> = {
  collection: 'dataset_versions',
  schema: DatasetVersionRecord,
  indexes: [{ fields: { contextId: 1, createdAt: -1 } }],
};

/** A document's clauses indexed for retrieval (the RAG variant of the audit needs them). */
export const ClauseIndexRecord = z.object({
  id: Id.describe('the document id and content hash'),
  contextId: ContextId,
  documentId: Id,
  documentSha256: Sha256,
  clauseCount: NonNegativeInt,
  dimensions: NonNegativeInt,
  embeddingModel: z.string().min(1),
  indexedAt: IsoTime,
});
export type ClauseIndexRecord = z.infer<typeof ClauseIndexRecord>;

export const CLAUSE_INDEXES: EntitySpec<ClauseIndexRecord> = {
  collection: 'clause_indexes',
  schema: ClauseIndexRecord,
  indexes: [{ fields: { contextId: 1, documentId: 1 } }],
};

export function clauseIndexId(documentId: string, documentSha256: string): string {
  return `${documentId}-${documentSha256.slice(0, 16)}`;
}

export const TrainingRunState = z.enum(['requested', 'running', 'completed', 'failed']);
export type TrainingRunState = z.infer<typeof TrainingRunState>;

/** One logged training step's loss. */
export const LossPoint = z.object({ step: NonNegativeInt, loss: z.number() });
export type LossPoint = z.infer<typeof LossPoint>;

/** A training run, from request to adapter. */
export const TrainingRunRecord = z.object({
  id: Id.describe('run id: hash of dataset, base model and hyper-parameters'),
  contextId: ContextId,
  datasetVersionId: Id,
  datasetSha256: Sha256,
  baseModel: z.string().min(1),
  hyperparameters: TrainingHyperparameters,
  outputDir: z.string().min(1),
  state: TrainingRunState,
  totalSteps: NonNegativeInt.nullable(),
  step: NonNegativeInt,
  /** Training loss at every logged step, in step order (a resumed attempt replaces the steps after its checkpoint). */
  lossCurve: z.array(LossPoint),
  adapterId: Id.nullable(),
  error: z.string().nullable(),
  /** The queued job that carries the run (the run id; a new one when a finished run is requested again). */
  jobId: Id,
  requestedAt: IsoTime,
  updatedAt: IsoTime,
});
export type TrainingRunRecord = z.infer<typeof TrainingRunRecord>;

export const TRAINING_RUNS: EntitySpec<TrainingRunRecord> = {
  collection: 'training_runs',
  schema: TrainingRunRecord,
  indexes: [{ fields: { contextId: 1, requestedAt: -1 } }],
};

/** A trained adapter in the model registry, with its lineage. */
export const AdapterRecord = z.object({
  id: Id,
  contextId: ContextId,
  runId: Id,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  datasetSha256: Sha256,
  hyperparameters: TrainingHyperparameters,
  artifactDir: z.string().min(1),
  metrics: Metrics,
  lossCurve: z.array(LossPoint),
  registeredAt: IsoTime,
});
export type AdapterRecord = z.infer<typeof AdapterRecord>;

export const ADAPTERS: EntitySpec<AdapterRecord> = {
  collection: 'adapters',
  schema: AdapterRecord,
  indexes: [{ fields: { contextId: 1, runId: 1 } }],
};

export const AuditRunRecord = z.object({
  id: Id,
  contextId: ContextId,
  runId: Id,
  adapterId: Id,
  datasetVersionId: Id,
  items: NonNegativeInt,
  verdict: z.enum(['pass', 'fail']),
  reportJsonUri: z.string().min(1),
  reportMarkdownUri: z.string().min(1),
  createdAt: IsoTime,
});
export type AuditRunRecord = z.infer<typeof AuditRunRecord>;

export const AUDIT_RUNS: EntitySpec<AuditRunRecord> = {
  collection: 'audit_runs',
  schema: AuditRunRecord,
  indexes: [{ fields: { runId: 1, createdAt: -1 } }],
};

/** Opens each of the pipeline's repositories with `open` (a SQLite store's, a MongoDB database's). */
export function studioRepositories(open: <T extends { id: string }>(spec: EntitySpec<T>) => Repository<T>) {
  return {
    documents: open(DOCUMENTS),
    clauses: open(CLAUSES),
    datasets: open(DATASET_VERSIONS),
    runs: open(TRAINING_RUNS),
    adapters: open(ADAPTERS),
    audits: open(AUDIT_RUNS),
    clauseIndexes: open(CLAUSE_INDEXES),
  };
}
