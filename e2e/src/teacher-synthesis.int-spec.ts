import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArtifactStore } from '@studio/artifacts';
import { extractStatements, generateExamples, importSeeds, parseDocument } from '@studio/framing';
import { OpenAiCompatibleClient } from '@studio/llm';
import { artifactCheckpoint, droppedTotal, synthesizeExamples, type DataReport, type SynthesisInput } from '@studio/pipeline';
import type { ChatRequest } from '@studio/ports';
import { RuntimeProcess, runtimeInstalled, RUNTIME_EXECUTABLE } from './harness/runtime-process';
import { freePort, WORKSPACE_ROOT } from './harness/service-process';

/**
 * Teacher synthesis through the real OpenAI-compatible endpoint of the model runtime, serving the
 * tiny model (random weights: its replies are not JSON, so nearly all are dropped). What is checked
 * is the path and the accounting: every request reaches the server and is checkpointed, generated =
 * kept + dropped by reason, anything kept cites clauses of the document it was asked about, a
 * re-run resumes without a request, and `studio frame --teacher` runs it end to end with its report.
 */
const POLICY = join(WORKSPACE_ROOT, 'examples/northwind-conduct/policy.md');
const SEEDS = join(WORKSPACE_ROOT, 'examples/northwind-conduct/seeds.jsonl');
const inCi = process.env['CI'] === 'true';

async function waitForModels(baseUrl: string, server: RuntimeProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.running) throw new Error(`the model server exited before it was ready\n${server.tail()}`);
    try {
      if ((await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the model server did not answer /v1/models within ${timeoutMs} ms\n${server.tail()}`);
}

describe('teacher synthesis against the model runtime (tiny model)', () => {
  if (!runtimeInstalled()) {
    if (inCi)
      it('needs the model runtime', () => {
        throw new Error(`the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing): CI must run scripts/setup.sh first`);
      });
    else it.skip(`skipped: the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing)`, () => undefined);
    return;
  }

  let server: RuntimeProcess;
  let baseUrl: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'teacher-'));
    const port = await freePort();
    server = new RuntimeProcess('serve', [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--base-model',
      'tiny',
      '--no-embeddings',
    ]);
    baseUrl = `http://127.0.0.1:${port}/v1`;
    await waitForModels(baseUrl, server);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends every request over HTTP, accounts for every candidate, keeps only grounded examples, and resumes from its checkpoint', async () => {
    const tree = parseDocument(readFileSync(POLICY), { documentId: 'northwind-bcg', mediaType: 'text/markdown' });
    const statements = extractStatements(tree);
    const existing = [...importSeeds(readFileSync(SEEDS, 'utf8'), tree), ...generateExamples(tree, statements, { seed: 42 })];
    const input: SynthesisInput = { tree, statements, existing, values: null };
    const client = new OpenAiCompatibleClient({ baseUrl, timeoutMs: 120_000 });
    const requests: ChatRequest[] = [];
    const llm = { chat: (request: ChatRequest) => (requests.push(request), client.chat(request)) };
    const artifacts = new FileArtifactStore(dir);
    const settings = { maxClauses: 3, concurrency: 4, maxTokens: 96 };

    const first = await synthesizeExamples(
      { teacher: { llm, model: 'tiny' }, checkpoint: artifactCheckpoint(artifacts, 'synthesis/northwind.jsonl') },
      input,
      settings,
    );
    const { report } = first;
    expect(report).toMatchObject({ teacherModel: 'tiny', concurrency: 4, failed: 0, resumed: 0, clauses: 3 });
    // Per clause: a Q&A request and one per scenario label, plus a paraphrase where the clause has Q&A
    // examples of its own and a two-clause question where a next clause of its section exists.
    expect(report.requests).toBeGreaterThanOrEqual(3 * 4);
    expect(report.requests).toBeLessThanOrEqual(3 * 6);
    expect(report.sent).toBe(report.requests);
    expect(requests).toHaveLength(report.requests);
    expect(requests.every((r) => r.model === 'tiny' && r.max_tokens === 96 && typeof r.seed === 'number')).toBe(true);
    expect(report.completionTokens).toBeGreaterThan(0);
    // Accounting: every candidate is kept or dropped for a reason; random weights write no JSON.
    expect(report.generated).toBe(report.kept + droppedTotal(report));
    expect(report.generated).toBeGreaterThanOrEqual(report.requests);
    expect(report.droppedByReason.unparseable).toBeGreaterThan(0);
    // Grounding: what is kept cites clauses of this document, the ones it was asked about.
    const asked = new Set(requests.flatMap((r) => [...(r.messages.at(-1)?.content ?? '').matchAll(/^\[§([^\]]+)\]/gm)].map((m) => m[1])));
    const clauseIds = new Set(tree.clauses.map((c) => c.id));
    for (const e of first.examples) {
      expect(e.source).toBe('teacher');
      expect(e.clauseIds.every((id) => clauseIds.has(id))).toBe(true);
      expect(e.clauseRefs.every((ref) => asked.has(ref))).toBe(true);
    }

    // A re-run reads every reply from the checkpoint: no request, the same outcome.
    requests.length = 0;
    const again = await synthesizeExamples(
      { teacher: { llm, model: 'tiny' }, checkpoint: artifactCheckpoint(artifacts, 'synthesis/northwind.jsonl') },
      input,
      settings,
    );
    expect(requests).toHaveLength(0);
    expect(again.report).toMatchObject({ resumed: report.requests, sent: 0, generated: report.generated, kept: report.kept });
    expect(again.examples).toEqual(first.examples);
  }, 600_000);

  it('studio frame --teacher: the locally served model teaches, the summary and the data report count it', () => {
    const dataDir = join(dir, 'cli');
    const run = frameWithTeacher(dataDir);
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/teacher\s+tiny, concurrency 3: generated \d+, kept \d+/);
    expect(run.stderr).toMatch(/synthesize: done in .* \(tiny: kept \d+ of \d+ generated, \d+ requests \(0 resumed\), concurrency 3\)/);
    const path = /data report\s+(\S+data-report\.md) \(JSON: (\S+data-report\.json)\)/.exec(run.stdout);
    expect(path).not.toBeNull();
    const report = JSON.parse(readFileSync(path?.[2] as string, 'utf8')) as DataReport;
    expect(existsSync(path?.[1] as string)).toBe(true);
    expect(report.synthesis).toMatchObject({ teacherModel: 'tiny', concurrency: 3 });
    const s = report.synthesis as NonNullable<DataReport['synthesis']>;
    const dropped = Object.values(s.droppedByReason).reduce((a, b) => a + b, 0);
    expect(s.generated).toBe(s.kept + dropped);
    expect(report.bySource['teacher'] ?? 0).toBe(s.kept);
    expect(report.sample).toHaveLength(20);

    // Interrupted or not, a second run resumes: every request is answered from the checkpoint.
    const rerun = frameWithTeacher(dataDir);
    expect(rerun.status).toBe(0);
    expect(rerun.stderr).toMatch(/\d+ requests \((\d+) resumed\)/);
    const [, requests, resumed] = /(\d+) requests \((\d+) resumed\)/.exec(rerun.stderr) ?? [];
    expect(resumed).toBe(requests);
  }, 900_000);
});

/** `studio frame <example policy> --model tiny --teacher` on two clauses, three requests at a time. */
function frameWithTeacher(dataDir: string): SpawnSyncReturns<string> {
  const args = [
    'frame',
    POLICY,
    '--model',
    'tiny',
    '--teacher',
    '--teacher-max-clauses',
    '2',
    '--teacher-concurrency',
    '3',
    '--data-dir',
    dataDir,
  ];
  return spawnSync(process.execPath, ['-r', '@swc-node/register', join(WORKSPACE_ROOT, 'apps/studio/src/main.ts'), ...args], {
    cwd: WORKSPACE_ROOT,
    encoding: 'utf8',
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'apps/studio/tsconfig.json'), STUDIO_ROOT: WORKSPACE_ROOT },
    timeout: 400_000,
  });
}
