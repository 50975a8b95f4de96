import { z } from 'zod';
import { ContextId, Id, NonNegativeInt } from '../../common';

export const TRAINING_RUN_PROGRESS_V1 = 'training.run.progress.v1';

export const TrainingRunProgressV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  phase: z.enum(['started', 'step', 'eval', 'checkpoint']),
  step: NonNegativeInt,
  totalSteps: NonNegativeInt,
  loss: z.number().nullable(),
  evalLoss: z.number().nullable(),
  learningRate: z.number().nullable(),
  tokensPerS: z.number().nonnegative().nullable(),
  etaS: z.number().nonnegative().nullable(),
});
export type TrainingRunProgressV1 = z.infer<typeof TrainingRunProgressV1>;
