import { z } from 'zod';
import { ContextId, ErrorInfo, Id } from '../../common';

export const TRAINING_RUN_FAILED_V1 = 'training.run.failed.v1';

export const TrainingRunFailedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  error: ErrorInfo,
  attempts: z.number().int().positive(),
});
export type TrainingRunFailedV1 = z.infer<typeof TrainingRunFailedV1>;
