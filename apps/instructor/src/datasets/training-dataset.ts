import { ContextId, DatasetVersionPublishedV1, Id, IsoTime, Sha256, type CloudEvent } from '@studio/contracts';
import type { TrainableDataset } from '@studio/pipeline';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A published dataset version the instructor can train on: its copy of what `dataset.version.published` states. */
export const TrainingDataset = z.object({
  id: Id.describe('The dataset version id'),
  contextId: ContextId,
  sha256: DatasetVersionPublishedV1.shape.sha256,
  documentId: Id,
  documentSha256: Sha256,
  format: DatasetVersionPublishedV1.shape.format,
  trainPath: z.string().min(1),
  trainSha256: Sha256,
  trainExamples: z.number().int().nonnegative(),
  heldOutPath: z.string().min(1),
  heldOutSha256: Sha256,
  heldOutExamples: z.number().int().nonnegative(),
  clauseCoverage: z.number().min(0).max(1),
  status: z.enum(['available']),
  publishedAt: IsoTime,
  publishedEventId: Id,
});
export type TrainingDataset = z.infer<typeof TrainingDataset>;

export const TRAINING_DATASETS: EntitySpec<TrainingDataset> = {
  collection: 'training_datasets',
  schema: TrainingDataset,
  indexes: [{ fields: { contextId: 1, publishedAt: -1 } }],
};

export function datasetFromPublished(event: CloudEvent<DatasetVersionPublishedV1>): TrainingDataset {
  const d = event.data;
  return {
    id: d.datasetVersionId,
    contextId: d.contextId,
    sha256: d.sha256,
    documentId: d.documentId,
    documentSha256: d.documentSha256,
    format: d.format,
    trainPath: d.splits.train.path,
    trainSha256: d.splits.train.sha256,
    trainExamples: d.splits.train.examples,
    heldOutPath: d.splits.heldOut.path,
    heldOutSha256: d.splits.heldOut.sha256,
    heldOutExamples: d.splits.heldOut.examples,
    clauseCoverage: d.clauseCoverage,
    status: 'available',
    publishedAt: event.time,
    publishedEventId: event.id,
  };
}

export function trainable(dataset: TrainingDataset): TrainableDataset {
  return {
    id: dataset.id,
    sha256: dataset.sha256,
    documentId: dataset.documentId,
    documentSha256: dataset.documentSha256,
    trainUri: dataset.trainPath,
    trainSha256: dataset.trainSha256,
  };
}
