import { z } from 'zod';
import { ContextId, Id, IsoTime, NonNegativeInt } from '../../common';

export const TRAINING_RUN_CANCELLED_V1 = 'training.run.cancelled.v1';

/**
 * A training run was cancelled before it finished: its job was removed from the queue (not
 * started yet) or its worker was told to stop. The run is never marked completed afterwards,
 * even when its worker happened to finish at the same moment.
 */
export const TrainingRunCancelledV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  runId: Id,
  /** The step the run had reached when it was cancelled (0 when it had not started). */
  step: NonNegativeInt,
  totalSteps: NonNegativeInt.nullable(),
  /** Who cancelled it, as the caller named itself (an API key's subject, a CLI user). */
  cancelledBy: z.string().min(1).max(300),
  cancelledAt: IsoTime,
});
export type TrainingRunCancelledV1 = z.infer<typeof TrainingRunCancelledV1>;
