import { z } from 'zod';
import { CheckpointEvalMetric } from '../jobs/training';
import { ErrorInfo, Id, IsoTime, Metrics, NonNegativeInt, TrainingMethod } from '../common';

/** JSON-lines progress protocol of `studio-runtime train …` (one object per stdout line). */
const base = { schema_version: z.literal('v1'), run_id: Id, time: IsoTime };

export const ProgressStarted = z.object({
  ...base,
  event: z.literal('started'),
  method: TrainingMethod,
  base_model: z.string().min(1),
  total_steps: NonNegativeInt,
  resumed_from_step: NonNegativeInt.nullable(),
});
export const ProgressStep = z.object({
  ...base,
  event: z.literal('step'),
  step: NonNegativeInt,
  total_steps: NonNegativeInt,
  epoch: z.number().nonnegative(),
  loss: z.number(),
  learning_rate: z.number().nonnegative(),
  tokens_per_s: z.number().nonnegative(),
  eta_s: z.number().nonnegative(),
});
export const ProgressEval = z.object({
  ...base,
  event: z.literal('eval'),
  step: NonNegativeInt,
  eval_loss: z.number().nullable(),
  metrics: Metrics,
});
export const ProgressCheckpoint = z.object({
  ...base,
  event: z.literal('checkpoint'),
  step: NonNegativeInt,
  path: z.string().min(1),
});
/** A checkpoint evaluation (hyperparameters.checkpoint_eval): the held-out slice answered greedily at `step`. */
export const ProgressCheckpointEval = z.object({
  ...base,
  event: z.literal('checkpoint_eval'),
  step: NonNegativeInt,
  total_steps: NonNegativeInt,
  items: z.number().int().min(1),
  token_f1: z.number().min(0).max(1).describe("Mean token F1 of the greedy answers against the references (the auditor's tokenF1)"),
  heldout_loss: z.number().nonnegative().describe('Mean token loss of the reference answers (the answer tokens only)'),
  seconds: z.number().nonnegative().describe('Wall time of the evaluation'),
  early_stop: z
    .object({
      metric: CheckpointEvalMetric,
      best_step: NonNegativeInt,
      best_value: z.number(),
      regressions: NonNegativeInt.describe('Evaluations in a row worse than the best by more than min_delta'),
      patience: z.number().int().min(1),
      stopped: z.boolean().describe("This evaluation stops training; the artifact is the best step's weights"),
    })
    .nullable(),
});
export const ProgressCompleted = z.object({
  ...base,
  event: z.literal('completed'),
  artifact_dir: z.string().min(1),
  metrics: Metrics,
});
export const ProgressFailed = z.object({
  ...base,
  event: z.literal('failed'),
  error: ErrorInfo,
});

export const RuntimeProgressV1 = z.discriminatedUnion('event', [
  ProgressStarted,
  ProgressStep,
  ProgressEval,
  ProgressCheckpoint,
  ProgressCheckpointEval,
  ProgressCompleted,
  ProgressFailed,
]);
export type RuntimeProgressV1 = z.infer<typeof RuntimeProgressV1>;
