import { z } from 'zod';
import { CheckpointEvalMetric } from '../../jobs/training';
import { ContextId, Id, NonNegativeInt } from '../../common';

export const TRAINING_RUN_PROGRESS_V1 = 'training.run.progress.v1';

/** A checkpoint evaluation's scores (the runtime's `checkpoint_eval` progress event). */
export const CheckpointEvalScores = z.object({
  items: z.number().int().min(1),
  tokenF1: z.number().min(0).max(1),
  heldoutLoss: z.number().nonnegative(),
  seconds: z.number().nonnegative(),
  earlyStop: z
    .object({
      metric: CheckpointEvalMetric,
      bestStep: NonNegativeInt,
      bestValue: z.number(),
      regressions: NonNegativeInt,
      patience: z.number().int().min(1),
      stopped: z.boolean(),
    })
    .nullable(),
});
export type CheckpointEvalScores = z.infer<typeof CheckpointEvalScores>;

export const TrainingRunProgressV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  phase: z.enum(['started', 'step', 'eval', 'checkpoint', 'checkpoint_eval']),
  step: NonNegativeInt,
  totalSteps: NonNegativeInt,
  loss: z.number().nullable(),
  evalLoss: z.number().nullable(),
  learningRate: z.number().nullable(),
  tokensPerS: z.number().nonnegative().nullable(),
  etaS: z.number().nonnegative().nullable(),
  checkpointEval: CheckpointEvalScores.nullable()
    .optional()
    .describe('Phase checkpoint_eval: the scores of the held-out slice at this step; absent or null otherwise'),
});
export type TrainingRunProgressV1 = z.infer<typeof TrainingRunProgressV1>;
