import { ContextId, Id, Metrics, NonNegativeInt, Sha256, TrainingHyperparameters } from '@studio/contracts';
import { z } from 'zod';

/**
 * What the pipeline stores, one zod schema per entity (the repositories validate on write and
 * read). Ids are deterministic, so every write is an idempotent upsert.
 */

export const DocumentRecord = z.object({
  id: Id.describe('document id'),
  contextId: ContextId,
  filename: z.string().min(1),
  mediaType: z.enum(['text/markdown', 'text/plain']),
  sha256: Sha256,
  sizeBytes: NonNegativeInt,
  storageUri: z.string().min(1),
  title: z.string().nullable(),
  clauseCount: NonNegativeInt,
  statementCount: NonNegativeInt,
});
export type DocumentRecord = z.infer<typeof DocumentRecord>;

export const ClauseRecord = z.object({
  id: Id.describe('stable clause id: document, numbering path and content hash'),
  contextId: ContextId,
  documentId: Id,
  numbering: z.string().min(1),
  title: z.string().nullable(),
  text: z.string().min(1),
});
export type ClauseRecord = z.infer<typeof ClauseRecord>;

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
});
export type DatasetVersionRecord = z.infer<typeof DatasetVersionRecord>;

export const TrainingRunState = z.enum(['requested', 'running', 'completed', 'failed']);
export type TrainingRunState = z.infer<typeof TrainingRunState>;

export const TrainingRunRecord = z.object({
  id: Id.describe('run id'),
  contextId: ContextId,
  datasetVersionId: Id,
  datasetSha256: Sha256,
  baseModel: z.string().min(1),
  hyperparameters: TrainingHyperparameters,
  outputDir: z.string().min(1),
  state: TrainingRunState,
  totalSteps: NonNegativeInt.nullable(),
  step: NonNegativeInt,
  firstLoss: z.number().nullable(),
  lastLoss: z.number().nullable(),
  /** Training loss at every logged step, in order. */
  losses: z.array(z.number()).default([]),
  adapterId: Id.nullable(),
  error: z.string().nullable(),
});
export type TrainingRunRecord = z.infer<typeof TrainingRunRecord>;

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
  firstLoss: z.number().nullable(),
  lastLoss: z.number().nullable(),
  losses: z.array(z.number()).default([]),
});
export type AdapterRecord = z.infer<typeof AdapterRecord>;

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
});
export type AuditRunRecord = z.infer<typeof AuditRunRecord>;
