import { Queue } from 'bullmq';
import { ContractViolation, GENERATE_DATASET_JOB, GENERATION_QUEUE, type GenerationJobV1 } from '@studio/contracts';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { producerConnection } from './connection';
import { BullMqJobQueue } from './job-queue';
import { BullMqJobWorker } from './job-worker';

const job: GenerationJobV1 = {
  schema_version: 'v1',
  tenant_id: 'acme',
  context_id: 'travel',
  document_id: null,
  seed: 42,
  held_out_ratio: 0.1,
  teacher: { model: 'smollm2-135m-instruct', concurrency: 4, max_per_clause: 8, max_clauses: null },
};

describeWithServers(['REDIS_URL'], 'the generation queue on a real Redis', ({ REDIS_URL }) => {
  it('carries a generate-dataset job on the "generation" queue to its worker: payload checked both ways, progress and result kept', async () => {
    const prefix = uniqueName('studio-gen');
    const queue = new BullMqJobQueue({ redisUrl: REDIS_URL, prefix, defaultBackoffMs: 10 });
    const worker = new BullMqJobWorker({ redisUrl: REDIS_URL, prefix, jobs: [GENERATE_DATASET_JOB], shutdownGraceMs: 2_000 });
    const connection = producerConnection(REDIS_URL);
    const raw = new Queue(GENERATION_QUEUE, { connection, prefix });
    const seen: GenerationJobV1[] = [];
    worker.handle(GENERATE_DATASET_JOB, async (payload, context) => {
      seen.push(payload);
      await context.reportProgress({ tenant_id: payload.tenant_id, done: 3, total: 6 });
      return { dataset_version_id: 'ds-travel-1' };
    });
    try {
      await expect(
        queue.enqueue(GENERATE_DATASET_JOB, { ...job, teacher: { ...job.teacher, concurrency: 0 } }, { jobId: 'gen-bad' }),
      ).rejects.toThrow(ContractViolation);
      await worker.start();
      const { jobId } = await queue.enqueue(GENERATE_DATASET_JOB, job, { jobId: 'gen-1' });
      // What sits in Redis is on the contract's queue, under the job's name.
      expect((await raw.getJob(jobId))?.name).toBe(GENERATE_DATASET_JOB);
      await eventually(async () => (await queue.status(GENERATE_DATASET_JOB, jobId))?.state === 'completed');
      expect(await queue.status(GENERATE_DATASET_JOB, jobId)).toMatchObject({
        progress: { tenant_id: 'acme', done: 3, total: 6 },
        result: { dataset_version_id: 'ds-travel-1' },
      });
      expect(seen).toEqual([job]);
    } finally {
      await worker.stop();
      await queue.close();
      await raw.obliterate({ force: true }).catch(() => undefined);
      await raw.close();
      await connection.quit();
    }
  });
});
