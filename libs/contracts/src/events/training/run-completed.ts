import { z } from 'zod';
import { ContextId, Id, Metrics, TrainingMethod } from '../../common';

export const TRAINING_RUN_COMPLETED_V1 = 'training.run.completed.v1';

export const TrainingRunCompletedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  method: TrainingMethod,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  adapterId: Id.describe('Registry id of the produced adapter'),
  artifactUri: z.string().min(1),
  metrics: Metrics,
});
export type TrainingRunCompletedV1 = z.infer<typeof TrainingRunCompletedV1>;
