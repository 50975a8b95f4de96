import {
  ClauseChangeCounts,
  ContextId,
  DatasetDocument,
  DatasetReview,
  DocumentUploadedV1,
  Id,
  IncrementalGeneration,
  IsoTime,
  Metrics,
  NonNegativeInt,
  NormativeKind,
  Sha256,
  TrainingHyperparameters,
  TrainingMethod,
} from '@studio/contracts';
import type { EntitySpec, Repository } from '@studio/ports';
import { z } from 'zod';

/**
 * What the pipeline stores, one zod schema per entity, with the collection it lives in (the
 * repositories validate on write and read). Both profiles store these same records: the
 * embedded one in SQLite, the services in their own MongoDB databases. Ids are deterministic,
 * so every write is an idempotent upsert.
 */

/**
 * A policy document of a context, as its current version stands: where its bytes are, and how far
 * framing got. A context has several documents; an upload with the id of a framed document and
 * other bytes is a new version of it (DocumentVersionRecord), not a new document.
 */
export const DocumentRecord = z.object({
  id: Id.describe('document id: the declared one, else a hash of tenant, context and file name'),
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
  /** The current (last framed) version; null until one is framed (and in records written before versions existed). */
  version: z.number().int().min(1).nullable().default(null),
});
export type DocumentRecord = z.infer<typeof DocumentRecord>;

export const DOCUMENTS: EntitySpec<DocumentRecord> = {
  collection: 'documents',
  schema: DocumentRecord,
  indexes: [{ fields: { contextId: 1, receivedAt: -1 } }],
};

/**
 * One version of a document: what was uploaded, whether it was framed, and how its clauses differ
 * from the version it revises. Versions are numbered 1, 2, … per document; the bytes and clause
 * files of every version stay in the artifact store, so any two framed versions can be diffed.
 */
export const DocumentVersionRecord = z.object({
  id: Id.describe('<documentId>.v<version>'),
  contextId: ContextId,
  documentId: Id,
  version: z.number().int().min(1),
  filename: z.string().min(1),
  mediaType: DocumentUploadedV1.shape.mediaType,
  sha256: Sha256,
  sizeBytes: NonNegativeInt,
  /** Where the version's bytes are kept; null for a rejected upload (nothing of it is stored). */
  storageUri: z.string().min(1).nullable(),
  status: z.enum(['framed', 'rejected']),
  title: z.string().nullable(),
  clauseCount: NonNegativeInt.nullable(),
  statementCount: NonNegativeInt.nullable(),
  clausesUri: z.string().min(1).nullable(),
  error: z.string().nullable(),
  /** The framed version this one revises (null for the first framed version). */
  previousVersion: z.number().int().min(1).nullable(),
  /** Clause changes against `previousVersion`; null for the first version and for a rejected one. */
  changes: ClauseChangeCounts.nullable(),
  receivedAt: IsoTime,
  uploadEventId: Id,
});
export type DocumentVersionRecord = z.infer<typeof DocumentVersionRecord>;

export const DOCUMENT_VERSIONS: EntitySpec<DocumentVersionRecord> = {
  collection: 'document_versions',
  schema: DocumentVersionRecord,
  indexes: [{ fields: { contextId: 1, documentId: 1, version: -1 } }, { fields: { documentId: 1, uploadEventId: 1 } }],
};

export function documentVersionId(documentId: string, version: number): string {
  return `${documentId}.v${version}`;
}

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

const CoveredShare = z.object({ covered: NonNegativeInt, total: NonNegativeInt, share: z.number().min(0).max(1) });

/**
 * How much of the context's ontology a dataset version exercises (the ontology library's
 * datasetCoverage, without the examples per concept, which the version's coverage artifact keeps):
 * concepts, and governed (concept, statement kind) pairs, exercised by at least one example.
 */
export const ConceptCoverageRecord = z.object({
  concepts: CoveredShare,
  pairs: CoveredShare,
  uncoveredConcepts: z.array(z.string().min(1)),
  uncoveredPairs: z.array(z.object({ conceptId: z.string().min(1), statementKind: NormativeKind })),
});
export type ConceptCoverageRecord = z.infer<typeof ConceptCoverageRecord>;

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
  /** The documents (their current versions) the version was generated from. */
  documents: z.array(DatasetDocument).default([]),
  /** Every example in full (JSON lines of { split, example }): what the next version keeps verbatim. Null where only the splits are known. */
  examplesUri: z.string().min(1).nullable().default(null),
  /** Hash of what generation depends on besides the clauses (values, seeds, seed, held-out ratio, system prompt). */
  settingsSha256: Sha256.nullable().default(null),
  /** How the version was derived from the previous one; null when generated in full. */
  incremental: IncrementalGeneration.nullable().default(null),
  /** The review this version was made by, from its parent version; null for a generated version. */
  review: DatasetReview.nullable().default(null),
  /** Concepts and governed pairs of the documents' ontology the examples exercise; null where not measured (versions made before it was). */
  conceptCoverage: ConceptCoverageRecord.nullable().default(null),
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

export const TrainingRunState = z.enum(['requested', 'running', 'completed', 'failed', 'cancelled']);
export type TrainingRunState = z.infer<typeof TrainingRunState>;

/** One logged training step's loss. */
export const LossPoint = z.object({ step: NonNegativeInt, loss: z.number() });
export type LossPoint = z.infer<typeof LossPoint>;

/** One checkpoint evaluation (hyperparameters.checkpoint_eval): the held-out slice's scores at a step. */
export const CheckpointEvalPoint = z.object({
  step: NonNegativeInt,
  tokenF1: z.number().min(0).max(1),
  heldoutLoss: z.number().nonnegative(),
});
export type CheckpointEvalPoint = z.infer<typeof CheckpointEvalPoint>;

/**
 * A training run, from request to adapter. `datasetVersionId` is the instruction dataset version:
 * the one SFT trains on, the one a DPO run's parent adapter was trained on (its held-out set is
 * what the audit asks), the one a reward model was requested for.
 */
export const TrainingRunRecord = z.object({
  id: Id.describe('run id: hash of method, dataset, base model, hyper-parameters, parent adapter and preference dataset'),
  contextId: ContextId,
  /** sft, dpo (from `parentAdapterId`, on `preferenceDatasetId`) or reward (on `preferenceDatasetId`); records before methods existed are sft. */
  method: TrainingMethod.default('sft'),
  datasetVersionId: Id,
  datasetSha256: Sha256,
  /** The adapter a DPO run starts from (its policy and frozen reference); null for sft and reward. */
  parentAdapterId: Id.nullable().default(null),
  /** The preference dataset version a DPO or reward run trains on; null for sft. */
  preferenceDatasetId: Id.nullable().default(null),
  baseModel: z.string().min(1),
  hyperparameters: TrainingHyperparameters,
  outputDir: z.string().min(1),
  state: TrainingRunState,
  totalSteps: NonNegativeInt.nullable(),
  step: NonNegativeInt,
  /** Training loss at every logged step, in step order (a resumed attempt replaces the steps after its checkpoint). */
  lossCurve: z.array(LossPoint),
  /** Checkpoint evaluations in step order (absent on runs without them, and on records written before they existed). */
  evalCurve: z.array(CheckpointEvalPoint).optional(),
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

/**
 * A trained adapter in the model registry, with its lineage: the base model, the dataset version,
 * and for a DPO adapter the adapter it started from and the preference dataset it was trained on
 * (which names every preference, hence every clause, that shaped it). A reward model is an adapter
 * of method `reward` (its metrics hold `pairwise_accuracy`).
 */
export const AdapterRecord = z.object({
  id: Id,
  contextId: ContextId,
  runId: Id,
  /** Records written before methods existed are sft. */
  method: TrainingMethod.default('sft'),
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  datasetSha256: Sha256,
  parentAdapterId: Id.nullable().default(null),
  preferenceDatasetId: Id.nullable().default(null),
  hyperparameters: TrainingHyperparameters,
  artifactDir: z.string().min(1),
  metrics: Metrics,
  lossCurve: z.array(LossPoint),
  /** The run's checkpoint evaluations (metrics `early_stopped`, `artifact_step` say whether the artifact is an earlier, best step). */
  evalCurve: z.array(CheckpointEvalPoint).optional(),
  registeredAt: IsoTime,
});
export type AdapterRecord = z.infer<typeof AdapterRecord>;

export const ADAPTERS: EntitySpec<AdapterRecord> = {
  collection: 'adapters',
  schema: AdapterRecord,
  indexes: [{ fields: { contextId: 1, runId: 1 } }, { fields: { contextId: 1, method: 1, registeredAt: -1 } }],
};

/**
 * A published preference dataset version as training reads it: the instructor's copy of
 * `preference.dataset.published.v1` (the reward-model service owns the preferences themselves).
 * Its splits are TRL preference JSON lines with a weight per pair.
 */
export const PreferenceDatasetVersionRecord = z.object({
  id: Id,
  contextId: ContextId,
  sha256: Sha256,
  /** The version before it: a round trains on what is new since then. */
  previousId: Id.nullable(),
  pairs: NonNegativeInt,
  newPairs: NonNegativeInt,
  bySource: z.record(z.string(), NonNegativeInt),
  resolutions: NonNegativeInt,
  train: DatasetSplitRecord,
  heldOut: DatasetSplitRecord,
  publishedAt: IsoTime,
});
export type PreferenceDatasetVersionRecord = z.infer<typeof PreferenceDatasetVersionRecord>;

/** Not `preference_datasets`: in the embedded profile's one store that collection is the preference library's own. */
export const PREFERENCE_DATASET_VERSIONS: EntitySpec<PreferenceDatasetVersionRecord> = {
  collection: 'trainable_preference_datasets',
  schema: PreferenceDatasetVersionRecord,
  indexes: [{ fields: { contextId: 1, publishedAt: -1 } }],
};

/**
 * Why an audit is stale: its dataset version has examples on clauses that are no longer current
 * (a document revision changed, removed or renumbered them), so its verdict speaks of rules that
 * have changed. Set when a revision arrives after the audit, or at the audit itself when the
 * revision came first.
 */
export const AuditStaleness = z.object({
  since: IsoTime,
  reason: z.string().min(1),
  staleExamples: NonNegativeInt.describe('Examples of the audited dataset version that cite a clause no longer current'),
  revisions: z.array(
    z.object({
      documentId: Id,
      fromVersion: z.number().int().min(1),
      toVersion: z.number().int().min(2),
      staleExamples: NonNegativeInt.describe('Examples of the audited dataset version that cite a clause this revision changed'),
    }),
  ),
});
export type AuditStaleness = z.infer<typeof AuditStaleness>;

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
  /** Set when a document of the context changed clauses its dataset version's examples cite: the verdict speaks of rules that no longer hold. */
  stale: AuditStaleness.nullable().default(null),
});
export type AuditRunRecord = z.infer<typeof AuditRunRecord>;

export const AUDIT_RUNS: EntitySpec<AuditRunRecord> = {
  collection: 'audit_runs',
  schema: AuditRunRecord,
  indexes: [{ fields: { runId: 1, createdAt: -1 } }, { fields: { contextId: 1, datasetVersionId: 1 } }],
};

/** Opens each of the pipeline's repositories with `open` (a SQLite store's, a MongoDB database's). */
export function studioRepositories(open: <T extends { id: string }>(spec: EntitySpec<T>) => Repository<T>) {
  return {
    documents: open(DOCUMENTS),
    documentVersions: open(DOCUMENT_VERSIONS),
    clauses: open(CLAUSES),
    datasets: open(DATASET_VERSIONS),
    runs: open(TRAINING_RUNS),
    adapters: open(ADAPTERS),
    audits: open(AUDIT_RUNS),
    clauseIndexes: open(CLAUSE_INDEXES),
  };
}
