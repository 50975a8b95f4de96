import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictException, NotFoundException } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { GENERATE_DATASET_JOB } from '@studio/contracts';
import { InProcessEventBus, InProcessJobQueue, InProcessJobWorker, SqliteStore } from '@studio/inproc';
import {
  CLAUSES,
  DATASET_VERSIONS,
  DOCUMENTS,
  DOCUMENT_VERSIONS,
  frameUploadedDocument,
  uploadDocument,
  type DataReport,
} from '@studio/pipeline';
import { tenantId, type ChatRequest, type ChatResult, type JobStatus } from '@studio/ports';
import { CONTEXTS, contextFrom, ContextSettingsBody } from '../contexts/context-settings';
import { DatasetsController, GenerateDatasetBody, type GenerationJobView } from './datasets.controller';
import { generationJobId, isGenerationJobOf, RunGeneration, type GenerationJobResult, type TeacherFactory } from './generation';

const POLICY = `# Travel Rules

## 1. Expenses

**1.1** Travellers must not claim first-class fares.

**1.2** Travellers may book a hotel up to $200 a night without approval.
`;

/** A teacher that answers Q&A requests about clause 1.1 with one grounded pair, and anything else with prose. */
function teacher() {
  const calls: ChatRequest[] = [];
  const factory: TeacherFactory = (model) => ({
    model,
    llm: {
      chat: async (request: ChatRequest): Promise<ChatResult> => {
        calls.push(request);
        const user = request.messages.at(-1)?.content ?? '';
        const content =
          user.includes('[§1.1]') && user.includes('different questions')
            ? JSON.stringify({
                examples: [
                  {
                    question: 'May a traveller claim a first-class fare for a long flight?',
                    answer: 'No. Travellers must not claim first-class fares (§1.1).',
                  },
                ],
              })
            : 'Sorry, I cannot.';
        return { id: 'c', model: request.model, content, finishReason: 'stop', usage: null };
      },
    },
  });
  return { calls, factory };
}

async function settled(queue: InProcessJobQueue, jobId: string): Promise<JobStatus> {
  for (let i = 0; i < 500; i += 1) {
    const status = await queue.status(GENERATE_DATASET_JOB, jobId);
    if (status && (status.state === 'completed' || status.state === 'failed')) return status;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${jobId} did not settle`);
}

describe('dataset versions with a teacher, on the generation queue', () => {
  const tenant = tenantId('acme');
  let dir: string;
  let store: SqliteStore;
  let bus: InProcessEventBus;
  let queue: InProcessJobQueue;
  let worker: InProcessJobWorker | null;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'framer-gen-'));
    store = SqliteStore.open(dir, 'framer');
    bus = new InProcessEventBus();
    await bus.start();
    queue = new InProcessJobQueue({ defaultBackoffMs: 1 });
    worker = null;
  });
  afterEach(async () => {
    await worker?.stop();
    await queue.close();
    await bus.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(factory: TeacherFactory) {
    const repos = {
      documents: store.repository(DOCUMENTS),
      documentVersions: store.repository(DOCUMENT_VERSIONS),
      clauses: store.repository(CLAUSES),
      datasets: store.repository(DATASET_VERSIONS),
      contexts: store.repository(CONTEXTS),
    };
    const artifacts = new FileArtifactStore(join(dir, 'artifacts'));
    const publishing = { bus, eventSource: '/studio/framer' };
    await repos.contexts.upsert(tenant, contextFrom('travel', ContextSettingsBody.parse({ name: 'Travel' }), null, new Date()));
    const uploaded = await uploadDocument(publishing, {
      tenant,
      contextId: 'travel',
      filename: 'travel.md',
      mediaType: 'text/markdown',
      content: new TextEncoder().encode(POLICY),
      maxBytes: 100_000,
      source: '/test',
    });
    await frameUploadedDocument({ ...publishing, repos, artifacts }, uploaded);
    const run = new RunGeneration(publishing, repos.contexts, repos.documents, repos.datasets, artifacts, factory);
    worker = new InProcessJobWorker(queue, { jobs: [GENERATE_DATASET_JOB] });
    worker.handle(GENERATE_DATASET_JOB, (job, context) => run.execute(job, context));
    await worker.start();
    const controller = new DatasetsController(
      publishing,
      repos.contexts,
      repos.documents,
      repos.datasets,
      artifacts,
      queue,
      factory,
      'default-teacher',
    );
    // The same framer without a teacher endpoint.
    const withoutTeacher = new DatasetsController(publishing, repos.contexts, repos.documents, repos.datasets, artifacts, queue, null, 'x');
    return { controller, repos, withoutTeacher };
  }

  const response = () => {
    let code = 0;
    return { res: { status: (c: number) => (code = c) }, code: () => code };
  };

  it('queues the request (202), runs it with the teacher, and the job shows the dataset version, whose report counts the teacher', async () => {
    const { calls, factory } = teacher();
    const { controller, repos } = await setUp(factory);
    const body = GenerateDatasetBody.parse({ teacher: { concurrency: 2, maxPerClause: 4 } });
    const r = response();
    const queued = (await controller.create(tenant, 'travel', body, r.res)) as GenerationJobView;
    expect(r.code()).toBe(202);
    expect(queued.statusPath).toBe(`/v1/contexts/travel/datasets/jobs/${queued.jobId}`);
    expect(isGenerationJobOf(queued.jobId, tenant, 'travel')).toBe(true);

    const status = await settled(queue, queued.jobId);
    expect(status.failedReason).toBeNull();
    const result = status.result as GenerationJobResult;
    expect(result).toMatchObject({
      tenant_id: 'acme',
      context_id: 'travel',
      created: true,
      synthesis: { teacher_model: 'default-teacher', kept: 1 },
    });
    expect(calls.length).toBe(result.synthesis.requests);
    expect(calls.every((c) => c.model === 'default-teacher')).toBe(true);
    expect(await repos.datasets.get(tenant, result.dataset_version_id)).not.toBeNull();
    const view = await controller.job(tenant, 'travel', queued.jobId);
    expect(view).toMatchObject({ state: 'completed', result: { dataset_version_id: result.dataset_version_id } });
    expect(view.progress).toMatchObject({
      tenant_id: 'acme',
      context_id: 'travel',
      done: result.synthesis.requests,
      total: result.synthesis.requests,
    });
    const report: DataReport = await controller.report(tenant, 'travel', result.dataset_version_id);
    expect(report.bySource['teacher']).toBe(1);
    expect(report.synthesis).toMatchObject({ teacherModel: 'default-teacher', concurrency: 2, kept: 1 });

    // The same request is the same job; another tenant does not see it.
    const again = (await controller.create(tenant, 'travel', body, response().res)) as GenerationJobView;
    expect(again.jobId).toBe(queued.jobId);
    await expect(controller.job(tenantId('other'), 'travel', queued.jobId)).rejects.toThrow(NotFoundException);
  });

  it('names the model asked for, and refuses a teacher when none is configured', async () => {
    const { factory } = teacher();
    const { controller, withoutTeacher } = await setUp(factory);
    const job = {
      schema_version: 'v1' as const,
      tenant_id: 'acme',
      context_id: 'travel',
      document_id: null,
      seed: 42,
      held_out_ratio: 0.1,
      teacher: { model: 'granite-3-8b', concurrency: 4, max_per_clause: 8, max_clauses: null },
    };
    const queued = (await controller.create(
      tenant,
      'travel',
      GenerateDatasetBody.parse({ teacher: { model: 'granite-3-8b' } }),
      response().res,
    )) as GenerationJobView;
    expect(queued.jobId).toBe(generationJobId(job));
    expect(((await settled(queue, queued.jobId)).result as GenerationJobResult).synthesis.teacher_model).toBe('granite-3-8b');

    await expect(withoutTeacher.create(tenant, 'travel', GenerateDatasetBody.parse({ teacher: {} }), response().res)).rejects.toThrow(
      ConflictException,
    );
    expect(() => GenerateDatasetBody.parse({ teacher: { concurrency: 0 } })).toThrow(/concurrency/);
  });
});
