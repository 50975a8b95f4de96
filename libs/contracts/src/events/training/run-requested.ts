import { z } from 'zod';
import { ContextId, Id, TrainingMethod } from '../../common';
import { TrainingHyperparameters } from '../../jobs/training';

export const TRAINING_RUN_REQUESTED_V1 = 'training.run.requested.v1';

export const TrainingRunRequestedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  method: TrainingMethod,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  hyperparameters: TrainingHyperparameters,
});
export type TrainingRunRequestedV1 = z.infer<typeof TrainingRunRequestedV1>;
