import { describeJobQueueConformance } from '@studio/testing';
import { InProcessJobQueue, InProcessJobWorker } from './job-queue';

describeJobQueueConformance('InProcessJobQueue and InProcessJobWorker', async () => {
  const queue = new InProcessJobQueue({ defaultBackoffMs: 10 });
  return { queue, worker: (options) => new InProcessJobWorker(queue, options) };
});
