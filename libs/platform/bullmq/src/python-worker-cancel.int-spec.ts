import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobCancelKey, TRAIN_JOB, TRAINING_QUEUE, type TrainingJobV1 } from '@studio/contracts';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { producerConnection } from './connection';
import { BullMqJobQueue } from './job-queue';

// The Python model runtime's training worker (apps/model-runtime), set up with
// `npx nx run model-runtime:setup`.
const RUNTIME_DIR = resolve(__dirname, '../../../../apps/model-runtime');
const PYTHON = join(RUNTIME_DIR, '.venv', 'bin', 'python');

function trainingJob(dir: string, runId: string): TrainingJobV1 {
  const rows = Array.from({ length: 16 }, (_, i) => ({
    messages: [
      { role: 'user', content: `Can I share my password with colleague ${i}?` },
      { role: 'assistant', content: 'No. Passwords must never be shared with anyone.' },
    ],
  }));
  const trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return {
    schema_version: 'v1',
    run_id: runId,
    tenant_id: 'acme',
    context_id: 'bcg',
    method: 'sft',
    base_model: 'tiny',
    init_adapter: null,
    dataset: {
      train_path: trainPath,
      eval_path: null,
      sha256: createHash('sha256').update(readFileSync(trainPath)).digest('hex'),
      format: 'conversational',
    },
    hyperparameters: {
      epochs: 1,
      max_steps: 5_000,
      learning_rate: 1e-3,
      batch_size: 2,
      gradient_accumulation_steps: 1,
      max_seq_length: 64,
      seed: 1,
      eval_ratio: 0,
      checkpoint_every_steps: 10_000,
      adapter: 'lora',
      lora: { r: 4, alpha: 8, dropout: 0, target_modules: ['q_proj', 'v_proj'] },
      dpo_beta: null,
    },
    output_dir: join(dir, 'out'),
  };
}

describeWithServers(['REDIS_URL'], 'cancel() from TypeScript stops a running Python training job', ({ REDIS_URL }) => {
  let dir: string;
  let worker: ChildProcess | null = null;
  let stderr = '';

  beforeAll(() => {
    if (!existsSync(PYTHON))
      throw new Error(`the model runtime is not set up (${PYTHON} is missing): run \`npx nx run model-runtime:setup\``);
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-cancel-'));
  });

  afterEach(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((done) => worker?.once('exit', done));
      worker.kill('SIGTERM');
      await exited;
    }
    worker = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker sees the cancel key, stops the trainer and fails the job without retries', async () => {
    const prefix = uniqueName('studio-test');
    const queue = new BullMqJobQueue({ redisUrl: REDIS_URL, prefix });
    const redis = producerConnection(REDIS_URL);
    try {
      const runId = uniqueName('run');
      const { jobId } = await queue.enqueue(TRAIN_JOB, trainingJob(dir, runId), { attempts: 3 });
      const proc = spawn(PYTHON, ['-m', 'studio_runtime.cli', 'worker', '--redis-url', REDIS_URL, '--queue', TRAINING_QUEUE], {
        cwd: RUNTIME_DIR,
        // The queue prefix as a deployment gives it (QUEUE_PREFIX, the services' variable), and
        // this checkout's runtime code whichever checkout the virtual environment came from.
        env: { ...process.env, HF_HUB_OFFLINE: '1', QUEUE_PREFIX: prefix, PYTHONPATH: join(RUNTIME_DIR, 'src') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      worker = proc;
      proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

      // Training is under way: step events arrive as job progress.
      const running = await eventually(
        async () => {
          const s = await queue.status(TRAIN_JOB, jobId);
          const progress = s?.progress as { event?: string; step?: number } | null | undefined;
          return s?.state === 'active' && progress?.event === 'step' ? progress : null;
        },
        180_000,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nworker stderr:\n${stderr.slice(-4000)}`);
      });
      expect(running.step).toBeGreaterThan(0);

      expect(await queue.cancel(TRAIN_JOB, jobId)).toBe(true);
      expect(await redis.exists(jobCancelKey(TRAINING_QUEUE, jobId, prefix))).toBe(1);

      const cancelled = await eventually(
        async () => {
          const s = await queue.status(TRAIN_JOB, jobId);
          return s?.state === 'cancelled' ? s : null;
        },
        30_000,
        250,
      );
      expect(cancelled.failedReason).toBe(`run ${runId} was cancelled`);
      expect(cancelled.attemptsMade).toBe(1);
      // The trainer stopped well short of its 5,000 steps and produced no artifact.
      expect((cancelled.progress as { step?: number } | null)?.step ?? 0).toBeLessThan(5_000);
      expect(existsSync(join(dir, 'out', 'artifact'))).toBe(false);
      // No retry picks it up again.
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await queue.status(TRAIN_JOB, jobId))?.state).toBe('cancelled');
      expect(worker.exitCode).toBeNull();
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await queue.close();
    }
  }, 240_000);
});
