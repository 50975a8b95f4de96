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
  /** dpo: the adapter the run started from (the audit answers its `sft` variant with it); null otherwise. */
  parentAdapter: z
    .object({ adapterId: Id, runId: Id, artifactUri: z.string().min(1), method: TrainingMethod })
    .nullable()
    .default(null),
  /** dpo and reward: the preference dataset version trained on (it names every preference and clause behind the adapter); null for sft. */
  preferenceDatasetId: Id.nullable().default(null),
});
export type TrainingRunCompletedV1 = z.infer<typeof TrainingRunCompletedV1>;
