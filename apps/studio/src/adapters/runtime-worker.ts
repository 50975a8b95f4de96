import type { TRAIN_JOB } from '@studio/contracts';
import type { ModelTrainer, TrainJobResult } from '@studio/pipeline';
import type { JobHandler } from '@studio/ports';

/**
 * The training worker of the embedded profile, doing in this process what `studio-runtime worker`
 * does on the BullMQ `training` queue: runs the job through the model runtime, reports each
 * progress event of the runtime (runtime/progress.v1) as the job's progress, returns the
 * artifact folder and metrics, or fails with "Type: message". The producer (the instructor)
 * learns all of it from the queue's job events, whichever worker ran the job.
 */
export function runtimeTrainHandler(trainer: ModelTrainer): JobHandler<typeof TRAIN_JOB> {
  return async (job, context): Promise<TrainJobResult> => {
    for await (const event of trainer.train(job, context.signal)) {
      if (event.event === 'completed') return { artifact_dir: event.artifact_dir, metrics: event.metrics };
      if (event.event === 'failed') throw new Error(`${event.error.type}: ${event.error.message}`);
      await context.reportProgress({ ...event });
    }
    throw new Error('TrainingIncomplete: the model runtime stopped without reporting a completed or failed event');
  };
}
