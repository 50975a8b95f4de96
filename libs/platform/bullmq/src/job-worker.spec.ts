import { EVALUATE_RUN_JOB, TRAIN_JOB } from '@studio/contracts';
import { JobWorkerStartupError } from '@studio/ports';
import { BullMqJobWorker } from './job-worker';

// start() checks the handlers before it opens any connection, so no Redis is needed here:
// the URL points at a port nothing listens on, and a connection attempt would hang the test.
const redisUrl = 'redis://127.0.0.1:1';

describe('BullMqJobWorker start-up check', () => {
  it('refuses a consumed job name with no handler', async () => {
    const worker = new BullMqJobWorker({ redisUrl, jobs: [TRAIN_JOB, EVALUATE_RUN_JOB] });
    worker.handle(TRAIN_JOB, async () => undefined);
    await expect(worker.start()).rejects.toThrow(JobWorkerStartupError);
    await expect(worker.start()).rejects.toThrow(/job "evaluate-run" on queue "evaluation" has no handler/);
  });

  it('refuses a job name with two handlers', async () => {
    const worker = new BullMqJobWorker({ redisUrl, jobs: [EVALUATE_RUN_JOB] });
    worker.handle(EVALUATE_RUN_JOB, async () => undefined);
    worker.handle(EVALUATE_RUN_JOB, async () => undefined);
    await expect(worker.start()).rejects.toThrow(/job "evaluate-run" on queue "evaluation" has 2 handlers/);
  });

  it('refuses a handler for a queue it was not told to consume', async () => {
    const worker = new BullMqJobWorker({ redisUrl, jobs: [EVALUATE_RUN_JOB] });
    worker.handle(EVALUATE_RUN_JOB, async () => undefined);
    worker.handle(TRAIN_JOB, async () => undefined);
    await expect(worker.start()).rejects.toThrow(/job "train" has a handler but its queue "training" is not consumed/);
  });
});
