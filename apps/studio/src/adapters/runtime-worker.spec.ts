import type { RuntimeProgressV1, TrainingJobV1 } from '@studio/contracts';
import type { ModelTrainer } from '@studio/pipeline';
import type { JobContext } from '@studio/ports';
import { runtimeTrainHandler } from './runtime-worker';

function trainerOf(events: RuntimeProgressV1[]): ModelTrainer {
  return {
    async *train() {
      for (const event of events) yield event;
    },
  };
}

function context(progress: unknown[]): JobContext {
  return {
    jobId: 'train-1',
    attempt: 1,
    maxAttempts: 2,
    reportProgress: async (value) => void progress.push(value),
    signal: new AbortController().signal,
  };
}

const job = { run_id: 'run-1' } as TrainingJobV1;
const step = { event: 'step', step: 1, total_steps: 2, loss: 2.5 } as unknown as RuntimeProgressV1;

describe('runtimeTrainHandler', () => {
  it("reports the runtime's progress events and returns the artifact folder and metrics", async () => {
    const progress: unknown[] = [];
    const completed = {
      event: 'completed',
      artifact_dir: '/data/adapters/run-1',
      metrics: { train_loss: 1.2 },
    } as unknown as RuntimeProgressV1;
    await expect(runtimeTrainHandler(trainerOf([step, completed]))(job, context(progress))).resolves.toEqual({
      artifact_dir: '/data/adapters/run-1',
      metrics: { train_loss: 1.2 },
    });
    expect(progress).toEqual([step]);
  });

  it('fails with "Type: message" as the Python worker does, or when the runtime stops without an outcome', async () => {
    const failed = { event: 'failed', error: { type: 'OutOfMemoryError', message: 'CUDA out of memory' } } as unknown as RuntimeProgressV1;
    await expect(runtimeTrainHandler(trainerOf([step, failed]))(job, context([]))).rejects.toThrow('OutOfMemoryError: CUDA out of memory');
    await expect(runtimeTrainHandler(trainerOf([step]))(job, context([]))).rejects.toThrow(/^TrainingIncomplete: /);
  });
});
