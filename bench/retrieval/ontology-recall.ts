// Recall@1/3/5 of the cited clauses on held-out questions, with and without the ontology, from one run.
//
//   npm run bench:retrieval-ontology [-- --corpus example|hipaa|all] [--split heldOut|train|seeds] [--llm-base-url URL]
//
// Each corpus is framed as `studio align` frames it (frameDocument, seed 42, held-out share 0.1):
// the example context with its values and seeds, the HIPAA Privacy Rule subpart
// (/work/shared/corpora/hipaa-privacy or STUDIO_HIPAA_CORPUS) with neither, so its questions are
// the template ones. Its graph is buildOntology of @studio/ontology over the framed tree and
// statements. The clauses are indexed with indexClauses into the in-process exact vector index
// (the embedded profile's) with real embeddings of all-minilm-l6-v2 from the model runtime:
// `studio-runtime serve` is started with the tiny base model (only its embeddings are used), or
// the OpenAI-compatible endpoint at --llm-base-url / LLM_BASE_URL (key: LLM_API_KEY) is used.
// Every question is retrieved twice with retrieveClausesTimed, the service's code path: without
// a graph and with the context's graph. A question's recall@k is the share of the clauses its
// example cites found in the top k; the figures are means over the questions.
// `--split train` measures on the train split instead (not the evaluation set: for checking
// the weights, which were chosen by reasoning, see ontology-retrieval.ts); `--split seeds` on the
// hand-written seed questions of both splits (the held-out split is mostly template questions,
// drafted from the same statements the graph's `governs` relations come from).
import '../event-bus/register-paths';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ContextValues, type Example } from '@studio/framing';
import { ExactVectorIndex } from '@studio/inproc';
import { OpenAiCompatibleClient } from '@studio/llm';
import { buildOntology, type ExtractedGraph } from '@studio/ontology';
import { EXPANSION_WEIGHT, frameDocument, GRAPH_WEIGHT, indexClauses, retrieveClausesTimed, type RetrievalPorts } from '@studio/pipeline';
import { tenantId, type LlmClient } from '@studio/ports';
import { RuntimeServer, runtimeExecutable } from '../../apps/studio/src/adapters/runtime-process';

const root = join(__dirname, '..', '..');
const EMBEDDING_MODEL = 'all-minilm-l6-v2';
const KS = [1, 3, 5] as const;
const SEED = 42;
const HELD_OUT_RATIO = 0.1;

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: 'all' },
    split: { type: 'string', default: 'heldOut' },
    'llm-base-url': { type: 'string' },
  },
});
if (!['example', 'hipaa', 'all'].includes(args.corpus)) throw new Error(`--corpus must be example, hipaa or all, got "${args.corpus}"`);
if (args.split !== 'heldOut' && args.split !== 'train' && args.split !== 'seeds') {
  throw new Error(`--split must be heldOut, train or seeds, got "${args.split}"`);
}
const split: 'heldOut' | 'train' | 'seeds' = args.split;

interface Corpus {
  name: string;
  contextId: string;
  documentId: string;
  content: string;
  values: ContextValues | null;
  seedsJsonl: string | null;
}

function corpora(): Corpus[] {
  const list: Corpus[] = [];
  if (args.corpus !== 'hipaa') {
    const dir = join(root, 'examples', 'northwind-conduct');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const values = ContextValues.parse(JSON.parse(read('values.json')));
    list.push({
      name: 'example (northwind-conduct)',
      contextId: values.context.id,
      documentId: 'northwind-bcg',
      content: read('policy.md'),
      values,
      seedsJsonl: read('seeds.jsonl'),
    });
  }
  if (args.corpus !== 'example') {
    const dir = process.env['STUDIO_HIPAA_CORPUS'] ?? '/work/shared/corpora/hipaa-privacy';
    list.push({
      name: 'HIPAA Privacy Rule (45 CFR 164 subpart E)',
      contextId: 'hipaa-privacy',
      documentId: 'hipaa-164e',
      content: readFileSync(join(dir, '45cfr164-subpart-e.md'), 'utf8'),
      values: null,
      seedsJsonl: null,
    });
  }
  return list;
}

/** The same embeddings endpoint, each distinct text embedded once (both retrievals of a question share its vector). */
function memoisingEmbeddings(llm: LlmClient): LlmClient {
  const cache = new Map<string, Promise<number[]>>();
  return {
    chat: (request) => llm.chat(request),
    chatStream: (request) => llm.chatStream(request),
    listModels: () => llm.listModels(),
    embed: async (model, input) => {
      const missing = input.filter((t) => !cache.has(`${model}\u0000${t}`));
      if (missing.length > 0) {
        const vectors = llm.embed(model, missing);
        missing.forEach((t, i) =>
          cache.set(
            `${model}\u0000${t}`,
            vectors.then((v) => v[i] as number[]),
          ),
        );
      }
      return Promise.all(input.map((t) => cache.get(`${model}\u0000${t}`) as Promise<number[]>));
    },
  };
}

interface Tally {
  recall: Record<number, number>;
}

function recallAt(retrieved: readonly string[], cited: readonly string[], k: number): number {
  const top = new Set(retrieved.slice(0, k));
  return cited.filter((id) => top.has(id)).length / cited.length;
}

async function measure(llm: LlmClient, corpus: Corpus): Promise<void> {
  const framed = frameDocument({
    contextId: corpus.contextId,
    documentId: corpus.documentId,
    mediaType: 'text/markdown',
    content: new TextEncoder().encode(corpus.content),
    seedsJsonl: corpus.seedsJsonl,
    values: corpus.values,
    seed: SEED,
    heldOutRatio: HELD_OUT_RATIO,
  });
  const graph: ExtractedGraph = buildOntology([
    { documentId: corpus.documentId, sha256: framed.version.sha256, version: 1, tree: framed.tree, statements: framed.statements },
  ]);
  const tenant = tenantId('bench');
  const ports: RetrievalPorts = { llm, vectors: new ExactVectorIndex(), embeddingModel: EMBEDDING_MODEL };
  const titles = new Map(framed.tree.sections.map((s) => [s.id, s.title]));
  const indexed = await indexClauses(ports, {
    tenant,
    contextId: corpus.contextId,
    clauses: framed.tree.clauses.map((c) => ({
      id: c.id,
      documentId: corpus.documentId,
      numbering: c.numbering,
      title: c.sectionId ? (titles.get(c.sectionId) ?? null) : null,
      text: c.text,
    })),
  });
  const examples: readonly Example[] =
    split === 'seeds' ? [...framed.version.train, ...framed.version.heldOut].filter((e) => e.source === 'seed') : framed.version[split];
  const scope = { tenant, contextId: corpus.contextId };
  const k = Math.max(...KS);
  // Per example source (hand-written seeds, template questions drafted from the statements the
  // graph's `governs` relations also come from, ...) and over all.
  const tallies = new Map<string, { n: number; without: Tally; with: Tally }>();
  const tally = (group: string) => {
    let t = tallies.get(group);
    if (!t) tallies.set(group, (t = { n: 0, without: { recall: {} }, with: { recall: {} } }));
    return t;
  };
  let naming = 0;
  let changed = 0;
  for (const example of examples) {
    const plain = await retrieveClausesTimed(ports, scope, example.question, k);
    const onto = await retrieveClausesTimed(ports, scope, example.question, k, { ontology: graph });
    if (onto.ontology) naming++;
    const a = plain.clauses.map((c) => c.clauseId);
    const b = onto.clauses.map((c) => c.clauseId);
    if (a.join() !== b.join()) changed++;
    for (const t of [tally('all'), tally(example.source)]) {
      t.n++;
      for (const at of KS) {
        t.without.recall[at] = (t.without.recall[at] ?? 0) + recallAt(a, example.clauseIds, at);
        t.with.recall[at] = (t.with.recall[at] ?? 0) + recallAt(b, example.clauseIds, at);
      }
    }
  }
  const relationsByType: Record<string, number> = {};
  for (const r of graph.relations) relationsByType[r.type] = (relationsByType[r.type] ?? 0) + 1;
  console.log(`\n${corpus.name}`);
  console.log(
    `  ${framed.tree.clauses.length} clauses indexed (${indexed.dimensions}-d ${EMBEDDING_MODEL}); graph: ${graph.concepts.length} concepts, ` +
      `relations ${JSON.stringify(relationsByType)}`,
  );
  console.log(
    `  ${examples.length} ${{ heldOut: 'held-out', train: 'train', seeds: 'seed (hand-written, both splits)' }[split]} questions; ${naming} name a concept of the graph; ` +
      `${changed} get a different top ${k} with the ontology`,
  );
  for (const [group, t] of tallies) {
    console.log(`  ${group === 'all' ? 'all questions' : `${group} questions only`} (${t.n}):`);
    console.log('    recall of cited clauses   without ontology   with ontology   ratio (with / without)');
    for (const at of KS) {
      const w = (t.without.recall[at] ?? 0) / t.n;
      const o = (t.with.recall[at] ?? 0) / t.n;
      console.log(
        `    @${at}                        ${w.toFixed(3)}              ${o.toFixed(3)}           ${w > 0 ? (o / w).toFixed(3) : 'n/a'}`,
      );
    }
  }
}

async function main(): Promise<void> {
  let server: RuntimeServer | null = null;
  let llm: LlmClient;
  const baseUrl = args['llm-base-url'] ?? process.env['LLM_BASE_URL'];
  if (baseUrl) {
    const apiKey = process.env['LLM_API_KEY'];
    llm = new OpenAiCompatibleClient({ baseUrl, timeoutMs: 300_000, ...(apiKey ? { apiKey } : {}) });
    console.log(`embeddings: ${EMBEDDING_MODEL} at ${baseUrl}`);
  } else {
    const logDir = await mkdtemp(join(tmpdir(), 'ontology-recall-'));
    const started = performance.now();
    server = await RuntimeServer.start({
      executable: runtimeExecutable(root),
      baseModel: 'tiny',
      logFile: join(logDir, 'runtime-server.log'),
    });
    llm = new OpenAiCompatibleClient({ baseUrl: server.baseUrl, apiKey: server.apiKey, timeoutMs: 300_000 });
    console.log(
      `embeddings: ${EMBEDDING_MODEL} from studio-runtime serve at ${server.baseUrl} (started in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  console.log(
    `weights: expansion term ${EXPANSION_WEIGHT}, graph ranking ${GRAPH_WEIGHT} (RRF k = 60); split: ${split}; seed ${SEED}, held-out share ${HELD_OUT_RATIO}`,
  );
  try {
    const cached = memoisingEmbeddings(llm);
    for (const corpus of corpora()) await measure(cached, corpus);
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
