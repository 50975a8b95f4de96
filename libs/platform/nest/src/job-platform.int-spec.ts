import { Test } from '@nestjs/testing';
import { EVALUATE_RUN_JOB, type EvaluationJobV1 } from '@studio/contracts';
import { loadConfig, profileEnv, queuePrefix, redisUrl } from '@studio/config';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { z } from 'zod';
import { JOB_PLATFORM, JobsModule, type JobPlatform } from './platform';

const QueueEnv = z.object({ ...profileEnv, REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix });

function payload(auditRunId: string): EvaluationJobV1 {
  return {
    schema_version: 'v1',
    tenant_id: 'acme',
    context_id: 'bcg',
    audit_run_id: auditRunId,
    run_id: 'run-1',
    dataset_version_id: 'dv-1',
    variants: ['base', 'aligned'],
    base_model: 'tiny',
    adapter_name: null,
    judge_model: null,
    max_items: 7,
  };
}

describeWithServers(['REDIS_URL'], 'the job platform of a deployment on a shared Redis (QUEUE_PREFIX)', ({ REDIS_URL }) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** JOB_PLATFORM as a distributed service configured by `env` gets it. */
  async function platformOf(env: Record<string, string>): Promise<JobPlatform> {
    const config = loadConfig(QueueEnv, { REDIS_URL, ...env }, 'probe');
    const moduleRef = await Test.createTestingModule({ imports: [JobsModule.forRoot(config)] }).compile();
    closers.push(() => moduleRef.close());
    return moduleRef.get<JobPlatform>(JOB_PLATFORM);
  }

  it("keeps each deployment's jobs to its own workers: a worker of another prefix never takes them", async () => {
    const [mine, theirs] = [uniqueName('studio-mine'), uniqueName('studio-theirs')];
    const a = await platformOf({ QUEUE_PREFIX: mine });
    const b = await platformOf({ QUEUE_PREFIX: theirs });
    const taken: { by: string; id: string }[] = [];
    const startWorker = async (platform: JobPlatform, by: string) => {
      const worker = platform.worker({ jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 2_000 });
      worker.handle(EVALUATE_RUN_JOB, async (job) => {
        taken.push({ by, id: job.audit_run_id });
        return { ok: true };
      });
      await worker.start();
      closers.push(() => worker.stop());
    };
    const queueOf = (platform: JobPlatform) => {
      const queue = platform.queue();
      closers.push(() => queue.close());
      return queue;
    };

    // Their worker runs; my job waits for mine.
    await startWorker(b, 'theirs');
    const myQueue = queueOf(a);
    const { jobId } = await myQueue.enqueue(EVALUATE_RUN_JOB, payload('audit-mine'), { jobId: 'audit-mine' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(taken).toEqual([]);
    expect((await myQueue.status(EVALUATE_RUN_JOB, jobId))?.state).toBe('waiting');
    // Their producer's jobs are not mine either: they go to their worker.
    await queueOf(b).enqueue(EVALUATE_RUN_JOB, payload('audit-theirs'), { jobId: 'audit-theirs' });
    await eventually(async () => taken.some((t) => t.id === 'audit-theirs') || null);

    await startWorker(a, 'mine');
    await eventually(async () => ((await myQueue.status(EVALUATE_RUN_JOB, jobId))?.state === 'completed' ? true : null));
    expect(taken.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { by: 'mine', id: 'audit-mine' },
      { by: 'theirs', id: 'audit-theirs' },
    ]);
  });
});
