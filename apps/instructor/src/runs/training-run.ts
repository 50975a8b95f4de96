import { ContextId, Id, IsoTime, Metrics, NonNegativeInt, Sha256, TrainingHyperparameters } from '@studio/contracts';
import { TrainingRunState } from '@studio/pipeline';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A training run as the instructor tracks it, from request to adapter. */
export const TrainingRun = z.object({
  id: Id.describe('run id: hash of dataset, base model and hyper-parameters'),
  contextId: ContextId,
  datasetVersionId: Id,
  datasetSha256: Sha256,
  baseModel: z.string().min(1),
  hyperparameters: TrainingHyperparameters,
  outputDir: z.string().min(1),
  state: TrainingRunState,
  totalSteps: NonNegativeInt.nullable(),
  step: NonNegativeInt,
  firstLoss: z.number().nullable(),
  lastLoss: z.number().nullable(),
  adapterId: Id.nullable(),
  error: z.string().nullable(),
  requestedAt: IsoTime,
  updatedAt: IsoTime,
});
export type TrainingRun = z.infer<typeof TrainingRun>;

export const TRAINING_RUNS: EntitySpec<TrainingRun> = {
  collection: 'training_runs',
  schema: TrainingRun,
  indexes: [{ fields: { contextId: 1, requestedAt: -1 } }],
};

/** A trained adapter in the model registry, with its lineage. */
export const RegisteredAdapter = z.object({
  id: Id,
  contextId: ContextId,
  runId: Id,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  datasetSha256: Sha256,
  hyperparameters: TrainingHyperparameters,
  artifactDir: z.string().min(1),
  metrics: Metrics,
  firstLoss: z.number().nullable(),
  lastLoss: z.number().nullable(),
  registeredAt: IsoTime,
});
export type RegisteredAdapter = z.infer<typeof RegisteredAdapter>;

export const ADAPTERS: EntitySpec<RegisteredAdapter> = {
  collection: 'adapters',
  schema: RegisteredAdapter,
  indexes: [{ fields: { contextId: 1, runId: 1 } }],
};

export const RUNS_REPOSITORY = Symbol('RUNS_REPOSITORY');
export const ADAPTERS_REPOSITORY = Symbol('ADAPTERS_REPOSITORY');
