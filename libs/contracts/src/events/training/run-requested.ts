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
  /** The instruction dataset version (for dpo: the one its parent adapter was trained on). */
  datasetVersionId: Id,
  hyperparameters: TrainingHyperparameters,
  /** dpo: the adapter the run starts from; null otherwise. */
  parentAdapterId: Id.nullable().default(null),
  /** dpo and reward: the preference dataset version trained on; null for sft. */
  preferenceDatasetId: Id.nullable().default(null),
});
export type TrainingRunRequestedV1 = z.infer<typeof TrainingRunRequestedV1>;
