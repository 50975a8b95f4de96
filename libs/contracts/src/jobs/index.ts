import type { z } from 'zod';
import { DRIFT_QUEUE, DriftJobV1, SCORE_DRIFT_JOB } from './drift';
import { EVALUATE_RUN_JOB, EVALUATION_QUEUE, EvaluationJobV1 } from './evaluation';
import { GENERATE_DATASET_JOB, GENERATION_QUEUE, GenerationJobV1 } from './generation';
import { TRAIN_JOB, TRAINING_QUEUE, TrainingJobV1 } from './training';

export * from './cancel';
export * from './drift';
export * from './evaluation';
export * from './generation';
export * from './training';

/** Every job the platform dispatches: queue, job name and payload schema. */
export const JOBS = {
  [TRAIN_JOB]: { queue: TRAINING_QUEUE, schema: TrainingJobV1 },
  [EVALUATE_RUN_JOB]: { queue: EVALUATION_QUEUE, schema: EvaluationJobV1 },
  [GENERATE_DATASET_JOB]: { queue: GENERATION_QUEUE, schema: GenerationJobV1 },
  [SCORE_DRIFT_JOB]: { queue: DRIFT_QUEUE, schema: DriftJobV1 },
} as const;

export type JobName = keyof typeof JOBS;
export type QueueName = (typeof JOBS)[JobName]['queue'];
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
export const QUEUE_NAMES: readonly QueueName[] = [TRAINING_QUEUE, EVALUATION_QUEUE, GENERATION_QUEUE, DRIFT_QUEUE];
