import { z } from 'zod';
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
  ProgressCompleted,
  ProgressFailed,
]);
export type RuntimeProgressV1 = z.infer<typeof RuntimeProgressV1>;
