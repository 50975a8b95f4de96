// What the gateway's chat endpoint adds to a generation: the gateway's POST /v1/chat/completions
// against the model server's own, with the same grounded prompt and settings.
//   npm run bench:chat-overhead        (BENCH_REQUESTS=200 BENCH_MAX_TOKENS=8; BENCH_CPU_PROFILE_DIR=<dir>
//                                       writes a .cpuprofile of the gateway and the ontology;
//                                       BENCH_QDRANT=own|shared, see below; BENCH_CHAT_SAMPLE_RATE=1
//                                       records every conversation, default 0)
// Needs the local servers (deploy/local: KAFKA_BROKERS, MONGO_URL, REDIS_URL, QDRANT_URL) and the
// model runtime (apps/model-runtime/.venv). The vector search runs in a Qdrant stand-in of its own
// (deploy/local's, in memory, started from its venv on a free port: only this context's clauses,
// as a Qdrant with its tenant payload index looks at), or with BENCH_QDRANT=shared in the shared
// one at QDRANT_URL, whose brute-force Python search goes over every test run's points. Starts the gateway and the ontology as processes and
// `studio-runtime serve --base-model tiny` (the e2e harness), indexes the example policy's clauses,
// trains a one-step tiny adapter and deploys it (a deployment record in the gateway's database),
// then sends each question to both, the direct call first, and then to a bare node:http server
// (the floor of an HTTP hop on the machine, measured in the same run).
//
// Every figure comes from the same requests: the direct call's wall time, and the gateway's wall
// time with its phases from its Server-Timing header (auth guard, rate limit, validation,
// deployment lookup, retrieval — with the ontology's question embedding and vector search —
// prompt building, the model server call, the answer's citations, serialisation).
// Overhead excluding generation = the gateway's wall time minus the time it waited for the model
// server (`model`), so the generation's own variance does not count; retrieval (grounding: an
// embedding on the model server + the vector search, behind the ontology) is part of it and is
// also taken out in the second figure. The direct call's wall time is the reference the
// gateway's `model` time should match (shown as their difference per pair).
import '../event-bus/register-paths';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { parseDocument } from '@studio/framing';
import { LoraAdapterLoader, OpenAiCompatibleClient } from '@studio/llm';
import { connectMongo } from '@studio/mongo';
import { groundedMessages, indexClauses, type RetrievedClause } from '@studio/pipeline';
import { tenantId, type ChatMessage } from '@studio/ports';
import { QdrantVectorIndex } from '@studio/qdrant';
import { localInfraDir, serverUrl, type ServerVar } from '@studio/testing';
import { CURRENT_DEPLOYMENTS, type CurrentDeployment } from '../../apps/gateway/src/chat/chat-schemas';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from '../../e2e/src/harness/runtime-process';
import { E2E_MODEL_SERVER_API_KEY, freePort, WORKSPACE_ROOT } from '../../e2e/src/harness/service-process';
import { Stack } from '../../e2e/src/harness/stack';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const MAX_TOKENS = Number(process.env['BENCH_MAX_TOKENS'] ?? 8);
const WARMUP = 10;
const CPU_PROFILE_DIR = process.env['BENCH_CPU_PROFILE_DIR'];
const QDRANT_MODE = process.env['BENCH_QDRANT'] ?? 'own';
/** Node flags for the services (NODE_OPTIONS), to compare V8 settings: `BENCH_NODE_FLAGS=--max-semi-space-size=32`. */
const NODE_FLAGS = process.env['BENCH_NODE_FLAGS'] ?? '';
/** The gateway's CHAT_SAMPLE_RATE: 0 by default (the chat alone); 1 measures what recording every conversation adds. */
const SAMPLE_RATE = process.env['BENCH_CHAT_SAMPLE_RATE'] ?? '0';
const TARGET_P99_MS = 5;

/** A service's NODE_OPTIONS: BENCH_NODE_FLAGS, and a CPU profile (written when the stack stops) for BENCH_CPU_PROFILE_DIR. */
function nodeOptions(service: string): { NODE_OPTIONS?: string } {
  const profile = CPU_PROFILE_DIR ? `--cpu-prof --cpu-prof-dir=${CPU_PROFILE_DIR}/${service}` : '';
  const options = [NODE_FLAGS, profile].filter(Boolean).join(' ');
  return options ? { NODE_OPTIONS: options } : {};
}
const TENANT = 'bench';
const CONTEXT = 'northwind-bench';
const EMBEDDING_MODEL = 'all-minilm-l6-v2';
const SYSTEM_PROMPT = 'You answer questions about the Northwind Dynamics business conduct policy, citing its clauses.';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** The phases of a Server-Timing header: name -> milliseconds. */
function phasesOf(header: string | null): Map<string, number> {
  const phases = new Map<string, number>();
  for (const m of (header ?? '').matchAll(/([\w-]+);dur=([\d.]+)/g)) phases.set(m[1] as string, Number(m[2]));
  return phases;
}

async function main(): Promise<void> {
  const names: ServerVar[] = ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'];
  const servers = Object.fromEntries(names.map((n) => [n, serverUrl(n)])) as Record<ServerVar, string | undefined>;
  const missing = names.filter((n) => !servers[n]);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not set and deploy/local is not up (npm run infra:up)`);
  if (!runtimeInstalled()) throw new Error(`the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing)`);

  // The vector search runs in a Qdrant stand-in of its own (in memory, holding only this context's
  // clauses), unless BENCH_QDRANT=shared: the shared local stand-in searches every test run's points
  // in pure Python, which measures the other runs' data, not this system.
  let ownQdrant: OwnQdrant | null = null;
  if (QDRANT_MODE === 'own') {
    ownQdrant = await startOwnQdrant();
    servers.QDRANT_URL = ownQdrant.url;
    process.env['QDRANT_API_KEY'] = ownQdrant.apiKey;
  } else if (QDRANT_MODE !== 'shared') throw new Error(`BENCH_QDRANT must be own or shared, got ${QDRANT_MODE}`);

  console.info('starting the gateway, the ontology and the model server (tiny)...');
  const stack = await Stack.start({
    servers: servers as Record<ServerVar, string>,
    services: ['gateway', 'ontology'],
    runtimes: ['serve'],
    tenant: TENANT,
    prefix: 'bench-chat',
    env: (name): Record<string, string> => ({
      ...(name === 'gateway' ? { CHAT_SAMPLE_RATE: SAMPLE_RATE, RATE_LIMIT_CHAT_PER_MINUTE: '1000000' } : {}),
      ...nodeOptions(name),
    }),
  });
  let bare: BareServer | null = null;
  try {
    const llm = new OpenAiCompatibleClient({ baseUrl: stack.llmBaseUrl, apiKey: E2E_MODEL_SERVER_API_KEY });
    // The example policy's clauses, indexed for the tenant's context as the ontology does it.
    const policy = readFileSync(join(WORKSPACE_ROOT, 'examples/northwind-conduct/policy.md'), 'utf8');
    const tree = parseDocument(policy, { documentId: 'policy', mediaType: 'text/markdown' });
    const clauses = tree.clauses.map((c) => ({ id: c.id, documentId: 'policy', numbering: c.numbering, title: null, text: c.text }));
    const vectors = new QdrantVectorIndex({
      url: servers.QDRANT_URL as string,
      ...(process.env['QDRANT_API_KEY'] ? { apiKey: process.env['QDRANT_API_KEY'] } : {}),
    });
    await indexClauses({ llm, vectors, embeddingModel: EMBEDDING_MODEL }, { tenant: tenantId(TENANT), contextId: CONTEXT, clauses });
    const questions = clauses
      .filter((c) => c.numbering && c.text.length > 40)
      .slice(0, 20)
      .map((c) => `What does the policy say here: ${c.text.slice(0, 120)}?`);

    // A one-step adapter of the tiny model, in the run's artifact folder (where the model server may load from).
    const outputDir = join(stack.artifactDir, 'tenants', TENANT, 'bench', 'run');
    mkdirSync(outputDir, { recursive: true });
    // The trainer writes the adapter to <output-dir>/artifact.
    const adapterDir = join(outputDir, 'artifact');
    const trainFile = join(stack.artifactDir, 'bench-train.jsonl');
    writeFileSync(
      trainFile,
      questions
        .slice(0, 4)
        .map((q, i) =>
          JSON.stringify({
            messages: [
              { role: 'user', content: q },
              { role: 'assistant', content: `See §${clauses[i]?.numbering}.` },
            ],
          }),
        )
        .join('\n'),
    );
    await promisify(execFile)(
      RUNTIME_EXECUTABLE,
      ['train', 'sft', '--base-model', 'tiny', '--train', trainFile, '--output-dir', outputDir, '--max-steps', '1', '--batch-size', '2'],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, HF_HUB_OFFLINE: '1' },
        timeout: 300_000,
      },
    );
    const now = new Date().toISOString();
    const deployment: CurrentDeployment = {
      id: CONTEXT,
      deploymentId: 'dep-bench',
      contextId: CONTEXT,
      runId: 'run-bench',
      adapterId: 'adapter-bench',
      adapterDir,
      baseModel: 'tiny',
      datasetVersionId: 'dv-bench',
      systemPrompt: SYSTEM_PROMPT,
      audit: { auditRunId: null, verdict: 'pass', stale: false },
      override: null,
      previousDeploymentId: null,
      deployedAt: now,
      deployedBy: { subject: 'bench', name: 'bench', role: 'admin' },
    };
    const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
    // The harness gives the gateway the database <run>_gateway.
    const database = await connectMongo(servers.MONGO_URL as string, `${stack.run}_gateway`, quiet);
    await database.repository(CURRENT_DEPLOYMENTS).upsert(tenantId(TENANT), deployment);
    await database.close();
    const key = await stack.keyFor(TENANT, 'operator');
    // The direct calls need the adapter too (the gateway's own load then finds it loaded).
    await new LoraAdapterLoader(stack.llmBaseUrl, { apiKey: E2E_MODEL_SERVER_API_KEY }).loadAdapter(deployment.adapterId, adapterDir);

    // The same grounded prompt for the direct calls: the clauses the gateway retrieves for each question.
    const grounded = new Map<string, ChatMessage[]>();
    for (const q of questions) {
      const res = await stack.call('POST', `/v1/contexts/${CONTEXT}/retrieve`, { question: q, k: 3 }, 'ontology', {
        'x-tenant-id': TENANT,
      });
      if (res.status !== 200) throw new Error(`retrieval failed: HTTP ${res.status} ${res.text}`);
      grounded.set(q, groundedMessages(SYSTEM_PROMPT, res.body['clauses'] as RetrievedClause[], [{ role: 'user', content: q }]));
    }
    const settings = { max_tokens: MAX_TOKENS, temperature: 0, seed: 0 };
    bare = await startBareServer();
    const loadBefore = loadavg();
    console.info(`measuring ${REQUESTS} questions (max_tokens ${MAX_TOKENS}, greedy)...`);
    // The timed client runs in a worker thread: an event loop of its own, not the one of this
    // process's Kafka observers (the harness's), whose work would delay every response it waits for.
    const measured = await measureInWorker({
      directUrl: `${stack.llmBaseUrl}/chat/completions`,
      modelServerKey: E2E_MODEL_SERVER_API_KEY,
      gatewayUrl: stack.url('gateway'),
      bareUrl: bare.url,
      key,
      context: CONTEXT,
      adapterId: deployment.adapterId,
      settings,
      questions,
      grounded: Object.fromEntries(grounded),
      requests: REQUESTS,
      warmup: WARMUP,
    });
    const rows = new Map<string, number[]>();
    const push = (name: string, value: number) => {
      const list = rows.get(name) ?? [];
      list.push(value);
      rows.set(name, list);
    };
    let differing = 0;
    for (const pair of measured.pairs) {
      const phases = phasesOf(pair.serverTiming);
      const phase = (name: string) => {
        const value = phases.get(name);
        if (value === undefined) throw new Error(`the gateway's Server-Timing has no ${name}: ${pair.serverTiming}`);
        return value;
      };
      push('direct', pair.directMs);
      push('gateway', pair.gatewayMs);
      for (const [name, value] of phases) push(name, value);
      const model = phase('model');
      const retrieve = phase('retrieve');
      push('vs-direct', pair.gatewayMs - pair.directMs);
      push('model-vs-direct', model - pair.directMs);
      push('outside', pair.gatewayMs - phase('total'));
      push('retrieve-hop', retrieve - phase('retrieve-graph') - phase('retrieve-embed') - phase('retrieve-search'));
      push('overhead', pair.gatewayMs - model);
      push('own', pair.gatewayMs - model - retrieve);
      push('bare', pair.bareMs);
      push('own-vs-bare', pair.gatewayMs - model - retrieve - pair.bareMs);
      if (!pair.gatewayText.startsWith(pair.directText)) differing += 1;
    }
    for (const value of measured.hotHealth) push('hot-health', value);
    for (const value of measured.hotRefused) push('hot-refused', value);
    for (const value of measured.hotBare) push('hot-bare', value);
    const get = (name: string) => rows.get(name) ?? [];
    const line = (label: string, name: string) => {
      const values = get(name);
      if (values.length === 0) return `${label.padEnd(66)} (not measured)`;
      return `${label.padEnd(66)} p50 ${percentile(values, 50).toFixed(2).padStart(8)} ms   p99 ${percentile(values, 99).toFixed(2).padStart(8)} ms`;
    };
    const own99 = percentile(get('own'), 99);
    const bare99 = percentile(get('bare'), 99);
    const ratio = (name: string, p: number) => (percentile(get(name), p) / percentile(get('bare'), p)).toFixed(2);
    const overhead99 = percentile(get('overhead'), 99);
    console.info(
      [
        '',
        `chat overhead of the gateway, ${REQUESTS} requests, tiny model, max_tokens ${MAX_TOKENS}, CPU (one run: every figure is from the same requests)`,
        `machine: ${cpus().length} CPUs, load average (1 min) ${loadBefore[0]?.toFixed(1)} before, ${loadavg()[0]?.toFixed(1)} after; vector search: ${QDRANT_MODE === 'own' ? "the bench's own Qdrant stand-in (this context's clauses only)" : `the shared Qdrant stand-in at ${servers.QDRANT_URL}`}`,
        line('direct call to the model server (wall)', 'direct'),
        line('through the gateway (wall)', 'gateway'),
        line('  gateway minus direct, per pair (includes generation variance)', 'vs-direct'),
        'phases of a gateway request (its Server-Timing):',
        line('  outside the handler (client HTTP, parsing, routing before guard)', 'outside'),
        line('  auth guard: API key (cached: hash, 1 Redis MULTI with the count)', 'auth'),
        line('  rate limit counted apart (a key not cached, an OIDC token)', 'ratelimit'),
        line('  validation (pipes: the request schema)', 'validate'),
        line('  deployment lookup', 'lookup'),
        line('  retrieval (the ontology call, wall)', 'retrieve'),
        line('    latest ontology graph (its store, timed by the ontology)', 'retrieve-graph'),
        line('    question embedding (model server, timed by the ontology)', 'retrieve-embed'),
        line('    vector search (Qdrant, timed by the ontology)', 'retrieve-search'),
        line('    the hop (HTTP, ontology routing and validation)', 'retrieve-hop'),
        line('  prompt building (question, grounded messages)', 'prompt'),
        line('  upstream call: generation (waiting for the model server)', 'model'),
        line('    minus the direct call, per pair (the client, generation noise)', 'model-vs-direct'),
        line('  answer (citations, sources line, sampling decision)', 'answer'),
        line('  response serialisation', 'serialize'),
        line('overhead excluding generation (wall - model)', 'overhead'),
        line('overhead excluding generation and retrieval (wall - model - retrieve)', 'own'),
        'the floor, from the same run: a bare node:http server (its own process, no framework), the same request and a response of the same size:',
        line('  bare HTTP round trip (timed after a generation, like the gateway)', 'bare'),
        line('  overhead excluding generation and retrieval minus it, per question', 'own-vs-bare'),
        `  overhead excluding generation and retrieval / bare round trip: ${ratio('own', 50)} at p50, ${ratio('own', 99)} at p99`,
        'the gateway alone, back to back (no generation in between):',
        line('  GET /health round trip', 'hot-health'),
        line('  chat refused after the key lookup (unknown key, 401) round trip', 'hot-refused'),
        line('  the bare node:http server, GET round trip', 'hot-bare'),
        `answers differing from the direct call's (besides the sources line): ${differing} of ${REQUESTS}`,
        `target p99 <= ${TARGET_P99_MS} ms excluding generation: ${own99 <= TARGET_P99_MS ? 'met' : 'NOT met'} without retrieval (p99 ${own99.toFixed(2)} ms), ${overhead99 <= TARGET_P99_MS ? 'met' : 'NOT met'} with it (p99 ${overhead99.toFixed(2)} ms)`,
        ...(bare99 > TARGET_P99_MS
          ? [`(this machine's floor: a bare HTTP round trip alone has p99 ${bare99.toFixed(2)} ms, over the target)`]
          : []),
      ].join('\n'),
    );
  } finally {
    await stack.stop();
    ownQdrant?.stop();
    bare?.stop();
  }
}

interface Measurement {
  directUrl: string;
  modelServerKey: string;
  gatewayUrl: string;
  bareUrl: string;
  key: string;
  context: string;
  adapterId: string;
  settings: Record<string, number>;
  questions: string[];
  grounded: Record<string, ChatMessage[]>;
  requests: number;
  warmup: number;
}

interface Measured {
  pairs: { directMs: number; gatewayMs: number; bareMs: number; serverTiming: string | null; directText: string; gatewayText: string }[];
  hotHealth: number[];
  hotRefused: number[];
  hotBare: number[];
}

/**
 * The timed requests, from a worker thread: each question to the model server directly, to the
 * gateway, and to the bare server, then the gateway and the bare server alone back to back (no
 * generation in between): a round trip each, and a chat refused after the key lookup (an unknown
 * key of the right shape: 401).
 */
const MEASURE = `
const { parentPort, workerData: m } = require('node:worker_threads');
async function direct(q) {
  const began = performance.now();
  const res = await fetch(m.directUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + m.modelServerKey },
    body: JSON.stringify({ model: m.adapterId, messages: m.grounded[q], ...m.settings }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error('direct call failed: HTTP ' + res.status + ' ' + JSON.stringify(body));
  return { ms: performance.now() - began, text: body.choices[0]?.message.content ?? '' };
}
/** A chat completion request of one user message, as a client of the gateway sends it. */
function chat(url, key, content, headers = {}) {
  return fetch(url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key, ...headers },
    body: JSON.stringify({ model: m.context, messages: [{ role: 'user', content }], ...m.settings }),
  });
}
const answerBytes = new Map(); // question -> the size of the gateway's last answer to it
async function gateway(q) {
  const began = performance.now();
  const res = await chat(m.gatewayUrl, m.key, q);
  const text = await res.text();
  const ms = performance.now() - began;
  if (!res.ok) throw new Error('gateway call failed: HTTP ' + res.status + ' ' + text);
  const body = JSON.parse(text);
  answerBytes.set(q, Buffer.byteLength(text));
  return { ms, serverTiming: res.headers.get('server-timing'), text: body.choices[0]?.message.content ?? '' };
}
async function bare(q) {
  const began = performance.now();
  const res = await chat(m.bareUrl, m.key, q, { 'x-answer-bytes': String(answerBytes.get(q) ?? 1024) });
  await res.json();
  const ms = performance.now() - began;
  if (!res.ok) throw new Error('the bare server answered HTTP ' + res.status);
  return ms;
}
(async () => {
  for (let i = 0; i < m.warmup; i++) {
    const q = m.questions[i % m.questions.length];
    await direct(q);
    await gateway(q);
    await bare(q);
  }
  const pairs = [];
  for (let i = 0; i < m.requests; i++) {
    const q = m.questions[i % m.questions.length];
    // The gateway call and the bare one each follow a generation (the direct call's, the
    // gateway's): a call right after one is slower on a machine without cores to spare.
    const d = await direct(q);
    const g = await gateway(q);
    const b = await bare(q);
    pairs.push({ directMs: d.ms, gatewayMs: g.ms, bareMs: b, serverTiming: g.serverTiming, directText: d.text, gatewayText: g.text });
  }
  const unknownKey = 'sk-studio-' + '0'.repeat(16) + '_' + 'A'.repeat(43);
  const hotHealth = [], hotRefused = [], hotBare = [];
  const roundTrip = async (url) => {
    const began = performance.now();
    await (await fetch(url)).text();
    return performance.now() - began;
  };
  for (let i = 0; i < m.requests; i++) {
    hotBare.push(await roundTrip(m.bareUrl + '/health'));
    hotHealth.push(await roundTrip(m.gatewayUrl + '/health'));
    const began = performance.now();
    const refused = await chat(m.gatewayUrl, unknownKey, 'hi');
    await refused.text();
    if (refused.status !== 401) throw new Error('an unknown key got HTTP ' + refused.status + ', not 401');
    hotRefused.push(performance.now() - began);
  }
  parentPort.postMessage({ pairs, hotHealth, hotRefused, hotBare });
})().catch((error) => { throw error; });
`;

function measureInWorker(measurement: Measurement): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(MEASURE, { eval: true, workerData: measurement });
    worker.once('message', (result: Measured) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the measuring worker exited (${code}) without its figures`)));
  });
}

/**
 * The floor of an HTTP hop on this machine, for the same run: a node:http server in a process of
 * its own (no framework, no middleware) that reads and parses the request's JSON and answers a JSON
 * body of the size the client asks for (the gateway's answer to the same question), and answers
 * GET with a small JSON, like /health.
 */
const BARE_SERVER = `
const { createServer } = require('node:http');
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body = '{"status":"ok"}';
    if (req.method === 'POST') {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const bytes = Number(req.headers['x-answer-bytes']);
      const head = JSON.stringify({ object: 'chat.completion', model: request.model, padding: '' });
      body = head.slice(0, -2) + 'x'.repeat(Math.max(0, bytes - head.length)) + '"}';
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

interface BareServer {
  url: string;
  stop(): void;
}

async function startBareServer(): Promise<BareServer> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the bare HTTP server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

interface OwnQdrant {
  url: string;
  apiKey: string;
  stop(): void;
}

/** The deploy/local Qdrant stand-in (its venv from `infra.sh up`) on a free port, in memory, with its own key. */
async function startOwnQdrant(): Promise<OwnQdrant> {
  const python = join(localInfraDir(), 'cache', 'qdrant-venv', 'bin', 'python');
  if (!existsSync(python))
    throw new Error(`the Qdrant stand-in's venv is missing (${python}): run npm run infra:up, or BENCH_QDRANT=shared`);
  const port = await freePort();
  const apiKey = randomBytes(24).toString('hex');
  const child = spawn(python, ['-m', 'qdrant_api', '--host', '127.0.0.1', '--port', String(port), '--storage', ':memory:'], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', PYTHONPATH: join(WORKSPACE_ROOT, 'deploy/local/qdrant-api'), QDRANT__SERVICE__API_KEY: apiKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  for (const began = Date.now(); Date.now() - began < 60_000;) {
    if (child.exitCode !== null) throw new Error(`the Qdrant stand-in exited (${child.exitCode}):\n${stderr}`);
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return { url, apiKey, stop };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  stop();
  throw new Error(`the Qdrant stand-in did not answer at ${url} within 60 s:\n${stderr}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
