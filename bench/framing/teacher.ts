// Teacher-model synthesis: synthetic pairs per hour and kept ratio.
//   npm run bench:teacher [-- --clauses 6 --concurrency 4 --max-tokens 256 --model smollm2-135m-instruct]
//   npm run bench:teacher -- --url http://host:8000/v1 --model <name>   (any OpenAI-compatible endpoint)
//   --replies <n> also prints the first n raw replies of the teacher.
// Without --url, the model runtime serves --model (default SmolLM2-135M-Instruct, on the CPU) on a
// free port. The sample is fixed: `--clauses` clauses that carry a rule, spread evenly over the
// example context's policy (examples/northwind-conduct), with its seeds and template examples as
// few-shot material; every request kind (Q&A, paraphrase, two-clause, three scenario labels).
// Nothing is checkpointed: every request is sent. Prints generated and kept pairs per hour of teacher
// time, the kept ratio, the drops by reason and the concurrency. A measurement: it exits 0 whatever
// the figures (1 only when the teacher cannot be reached).
import '../event-bus/register-paths';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { extractStatements, generateExamples, importSeeds, parseDocument } from '@studio/framing';
import { OpenAiCompatibleClient } from '@studio/llm';
import { memoryCheckpoint, synthesisClauses, synthesisRates, synthesizeExamples } from '@studio/pipeline';
import { RuntimeServer, runtimeExecutable } from '../../apps/studio/src/adapters/runtime-process';

const root = resolve(__dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    clauses: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '4' },
    'max-tokens': { type: 'string', default: '256' },
    model: { type: 'string', default: 'smollm2-135m-instruct' },
    url: { type: 'string' },
    seed: { type: 'string', default: '42' },
    replies: { type: 'string', default: '0' },
  },
});
const whole = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got "${text}"`);
  return n;
};

async function main(): Promise<number> {
  const sampleSize = whole('clauses', flags.clauses);
  const concurrency = whole('concurrency', flags.concurrency);
  const maxTokens = whole('max-tokens', flags['max-tokens']);
  const model = flags.model as string;
  const policy = join(root, 'examples/northwind-conduct/policy.md');
  const tree = parseDocument(readFileSync(policy), { documentId: 'northwind-bcg', mediaType: 'text/markdown' });
  const statements = extractStatements(tree);
  const existing = [
    ...importSeeds(readFileSync(join(root, 'examples/northwind-conduct/seeds.jsonl'), 'utf8'), tree),
    ...generateExamples(tree, statements, { seed: 42 }),
  ];
  // A fixed sample spread over the document: clause i·n/k of the n clauses that carry a rule.
  const stated = synthesisClauses(tree, statements);
  const step = stated.length / Math.min(sampleSize, stated.length);
  const sample = new Set(Array.from({ length: Math.min(sampleSize, stated.length) }, (_, i) => stated[Math.floor(i * step)]?.id));
  const sampled = statements.filter((s) => sample.has(s.clauseId));

  let server: RuntimeServer | null = null;
  const logDir = mkdtempSync(join(tmpdir(), 'bench-teacher-'));
  try {
    let baseUrl = flags.url;
    let apiKey = process.env['STUDIO_TEACHER_API_KEY'];
    let startMs = 0;
    if (!baseUrl) {
      const began = performance.now();
      server = await RuntimeServer.start({
        executable: runtimeExecutable(root),
        baseModel: model,
        logFile: join(logDir, 'runtime-server.log'),
        maxBatchSize: Math.max(concurrency, 1),
      });
      startMs = performance.now() - began;
      baseUrl = server.baseUrl;
      apiKey = server.apiKey;
    }
    const client = new OpenAiCompatibleClient({ baseUrl, timeoutMs: 900_000, ...(apiKey ? { apiKey } : {}) });
    // --replies n: the first n raw replies, to see what the teacher writes.
    const replies: string[] = [];
    const llm = {
      chat: async (...args: Parameters<typeof client.chat>) => {
        const result = await client.chat(...args);
        if (replies.length < Number(flags.replies)) replies.push(result.content);
        return result;
      },
    };
    let lastLine = 0;
    const { report, examples } = await synthesizeExamples(
      { teacher: { llm, model }, checkpoint: memoryCheckpoint() },
      { tree, statements: sampled, existing, values: null },
      { concurrency, maxTokens, seed: Number(flags.seed) },
      (p) => {
        if (Date.now() - lastLine < 10_000 && p.done < p.total) return;
        lastLine = Date.now();
        const eta = p.etaMs !== undefined ? `, ETA ${Math.round(p.etaMs / 1000)} s` : '';
        process.stderr.write(`  ${p.done}/${p.total} requests${eta}\n`);
      },
    );
    const rates = synthesisRates(report);
    const out = (label: string, value: string) => process.stdout.write(`${label.padEnd(24)}${value}\n`);
    process.stdout.write(`\nteacher synthesis benchmark (${server ? 'model runtime on this machine' : baseUrl})\n`);
    out('teacher', `${model}${server ? ` (served in ${(startMs / 1000).toFixed(1)} s, max batch ${Math.max(concurrency, 1)})` : ''}`);
    out('sample', `${report.clauses} clauses of ${stated.length} that carry a rule (examples/northwind-conduct)`);
    out('concurrency', String(report.concurrency));
    out('requests', `${report.requests} (${report.failed} failed), max ${maxTokens} tokens each`);
    out('teacher time', `${(report.teacherMs / 1000).toFixed(1)} s`);
    out(
      'tokens',
      `${report.promptTokens} prompt, ${report.completionTokens} completion (${(report.completionTokens / (report.teacherMs / 1000)).toFixed(1)} completion tokens/s)`,
    );
    out('generated', `${report.generated} (${Math.round(rates.generatedPerHour)} synthetic pairs per hour)`);
    out('kept', `${report.kept} (${Math.round(rates.keptPerHour)} kept pairs per hour)`);
    out('kept ratio', `${(100 * rates.keptRatio).toFixed(1)} %`);
    out(
      'dropped by reason',
      Object.entries(report.droppedByReason)
        .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', ') || 'none',
    );
    out(
      'kept by request kind',
      Object.entries(report.keptByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none',
    );
    if (report.lastError) out('last error', report.lastError);
    for (const [i, reply] of replies.entries()) process.stdout.write(`  reply ${i + 1}: ${reply.replace(/\s+/g, ' ').slice(0, 600)}\n`);
    for (const e of examples.slice(0, 3)) process.stdout.write(`  kept: ${e.question} → ${e.answer}\n`);
    return 0;
  } finally {
    await server?.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:teacher: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
