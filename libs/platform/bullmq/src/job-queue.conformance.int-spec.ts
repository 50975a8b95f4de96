import { describeJobQueueConformance, describeWithServers, uniqueName } from '@studio/testing';
import { BullMqJobQueue } from './job-queue';
import { BullMqJobWorker } from './job-worker';

describeWithServers(['REDIS_URL'], 'BullMQ job queue and worker on a real Redis', ({ REDIS_URL }) => {
  describeJobQueueConformance('BullMqJobQueue and BullMqJobWorker', async () => {
    const prefix = uniqueName('conformance');
    return {
      queue: new BullMqJobQueue({ redisUrl: REDIS_URL, prefix, defaultBackoffMs: 10 }),
      worker: (options) => new BullMqJobWorker({ redisUrl: REDIS_URL, prefix, ...options }),
    };
  });
});
