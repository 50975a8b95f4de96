import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo } from '@studio/mongo';
import { describeWithServers, eventually, uniqueName, type ServerVar } from '@studio/testing';
import { issueKey, TEST_ADMIN_API_KEY } from './harness/keys';
import { freePort, ServiceProcess, serviceHeaders, serviceRunEnv, type ServiceName } from './harness/service-process';

/**
 * Soak of the distributed profile's framing path: the gateway and the framer as processes on the
 * real Kafka and MongoDB-compatible server, DOCUMENTS distinct policies uploaded through the
 * gateway while a reader keeps reading the framer's data through its HTTP API. Every upload must
 * be framed and no read may stall for SLOWEST_READ_MS or more (the framer's database once locked
 * up on FerretDB while an upload was framed, and every read of it hit the 10 s limit).
 */
const DOCUMENTS = 200;
const SLOWEST_READ_MS = 1_000;
const UPLOADS_IN_FLIGHT = 4;
const TENANT = 'acme';
const TOPICS = ['Gifts and hospitality', 'Conflicts of interest', 'Records', 'Privacy', 'Safety', 'Fair competition', 'Travel'];
const VERBS = ['must', 'must not', 'may', 'should'];
const OBJECTS = ['report it to the Ethics Office', 'ask their manager first', 'keep a written record', 'decline the offer', 'inform Legal'];

/** Policy number `n`: a title, two sections and 3-6 numbered clauses, its text unlike any other's. */
function policy(n: number): string {
  const topic = TOPICS[n % TOPICS.length] ?? 'General';
  const lines = [`# Policy ${n}: ${topic}`, '', `Version ${1 + (n % 9)}.${n % 7}, owner: office ${n}.`, ''];
  const clauses = 3 + (n % 4);
  for (let c = 1; c <= clauses; c++) {
    if (c === 1 || c === 3) lines.push(`## ${c === 1 ? 1 : 2}. ${c === 1 ? 'Rules' : 'Exceptions'} of policy ${n}`, '');
    const verb = VERBS[(n + c) % VERBS.length] ?? 'must';
    const object = OBJECTS[(n * 3 + c) % OBJECTS.length] ?? 'ask';
    const amount = 10 + ((n * 37 + c * 11) % 490);
    lines.push(
      `**${c === 1 || c === 2 ? 1 : 2}.${c}** Employees ${verb} ${object} when a matter of ${topic.toLowerCase()} exceeds ${amount} EUR (rule ${n}-${c}).`,
      '',
    );
  }
  return lines.join('\n');
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

/** The framer needs Redis too (its `generation` queue). */
/** Reads of the framer's API made while the uploads are framed, at the least. */
const MIN_READS = 50;
const SERVERS: ServerVar[] = ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'];

describeWithServers(SERVERS, `soak: ${DOCUMENTS} documents framed through the gateway and the framer`, (urls) => {
  const run = uniqueName('soak').replace(/-/g, '_');
  const contextId = uniqueName('soak');
  const artifactDir = mkdtempSync(join(tmpdir(), 'studio-soak-artifacts-'));
  const services = new Map<ServiceName, { process: ServiceProcess; url: string }>();
  const url = (name: ServiceName) => services.get(name)?.url ?? '';
  const diagnostics = () => [...services.values()].map((s) => s.process.tail(30)).join('\n');
  let key = '';

  function envFor(name: ServiceName, port: number): Record<string, string> {
    const env: Record<string, string> = serviceRunEnv(run, name, port, urls.KAFKA_BROKERS);
    if (name === 'framer') Object.assign(env, { MONGO_URL: urls.MONGO_URL, MONGO_DB: `${run}_framer`, STUDIO_ARTIFACT_DIR: artifactDir });
    if (name === 'framer') env['REDIS_URL'] = urls.REDIS_URL;
    if (name === 'gateway')
      Object.assign(env, {
        FRAMER_URL: url('framer'),
        MONGO_URL: urls.MONGO_URL,
        MONGO_DB: `${run}_gateway`,
        REDIS_URL: urls.REDIS_URL,
        ADMIN_API_KEY: TEST_ADMIN_API_KEY,
        // The soak uploads as fast as it can: no per-tenant upload limit here.
        RATE_LIMIT_UPLOADS_PER_MINUTE: '0',
      });
    return env;
  }

  beforeAll(async () => {
    for (const name of ['framer', 'gateway'] as const)
      services.set(name, { process: undefined as never, url: `http://127.0.0.1:${await freePort()}` });
    for (const [name, entry] of services) entry.process = new ServiceProcess(name, envFor(name, Number(new URL(entry.url).port)));
    for (const [name, { process: service, url: base }] of services) {
      await eventually(
        async () => {
          if (!service.running) throw new Error(`${name} exited`);
          return (await fetch(`${base}/ready`)).status === 200;
        },
        90_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${name} did not become ready: ${err.message}\n${diagnostics()}`);
      });
    }
    key = await issueKey(url('gateway'), TENANT, 'curator');
  }, 120_000);

  afterAll(async () => {
    for (const { process: service } of services.values()) service?.kill('SIGTERM');
    await Promise.all(
      [...services.values()].map(({ process: service }) => service?.exitWithin(15_000).catch(() => service.kill('SIGKILL'))),
    );
    rmSync(artifactDir, { recursive: true, force: true });
    for (const name of ['framer', 'gateway']) {
      const db = await connectMongo(urls.MONGO_URL, `${run}_${name}`, {
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      });
      await db.connection.dropDatabase().finally(() => db.close());
    }
  });

  async function read(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url('framer')}${path}`, { headers: serviceHeaders(TENANT), signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it(`frames ${DOCUMENTS} documents with no read of the framer's data stalling ${SLOWEST_READ_MS} ms or more`, async () => {
    // The context first, as a user creates it (the framer answers 404 for a context it does not know).
    const created = await fetch(`${url('gateway')}/v1/contexts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ id: contextId, name: 'Soak policies' }),
    });
    expect(created.status).toBe(201);

    const uploaded: string[] = [];
    const reads: { what: string; ms: number; status: number }[] = [];
    let uploading = true;

    // The reader: the context's document list, one document, one document's clauses, in turn.
    const reader = (async () => {
      for (let i = 0; uploading; i++) {
        const documentId = uploaded[(i * 7919) % Math.max(1, uploaded.length)];
        const kind = i % 3;
        const path =
          kind === 0 || documentId === undefined
            ? `/v1/contexts/${contextId}/documents`
            : kind === 1
              ? `/v1/contexts/${contextId}/documents/${documentId}`
              : `/v1/contexts/${contextId}/clauses?documentId=${documentId}`;
        const what = path.replace(contextId, ':ctx').replace(documentId ?? '-', ':id');
        const started = performance.now();
        const status = await read(path).then(
          (r) => r.status,
          () => 0, // no answer within 30 s, or no connection
        );
        reads.push({ what, ms: performance.now() - started, status });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const started = performance.now();
    try {
      let next = 0;
      const uploader = async () => {
        while (next < DOCUMENTS) {
          const n = next++;
          const res = await fetch(`${url('gateway')}/v1/contexts/${contextId}/documents`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ filename: `policy-${n}.md`, mediaType: 'text/markdown', content: policy(n) }),
          });
          const body = (await res.json()) as { documentId?: string };
          if (res.status !== 202 || !body.documentId) throw new Error(`upload ${n}: ${res.status} ${JSON.stringify(body)}`);
          uploaded.push(body.documentId);
        }
      };
      await Promise.all(Array.from({ length: UPLOADS_IN_FLIGHT }, uploader));
      const uploadedIn = performance.now() - started;

      const framed = await eventually(
        async () => {
          for (const { process: service } of services.values()) if (!service.running) throw new Error(`${service.name} exited`);
          const { body } = await read(`/v1/contexts/${contextId}/documents`);
          const documents = (body['documents'] ?? []) as { id: string; status: string; clauseCount?: number }[];
          return documents.filter((d) => d.status !== 'received').length >= DOCUMENTS ? documents : null;
        },
        150_000,
        500,
      ).catch((err: Error) => {
        throw new Error(`not every upload was framed: ${err.message}\n${diagnostics()}`);
      });
      const framedIn = performance.now() - started;
      uploading = false;
      await reader;

      const latencies = reads.map((r) => r.ms).sort((a, b) => a - b);
      const slowest = [...reads].sort((a, b) => b.ms - a.ms).slice(0, 3);
      process.stdout.write(
        [
          `[soak] ${DOCUMENTS} documents: uploaded in ${(uploadedIn / 1000).toFixed(1)} s (${((DOCUMENTS * 1000) / uploadedIn).toFixed(1)} uploads/s), ` +
            `all framed after ${(framedIn / 1000).toFixed(1)} s (${((DOCUMENTS * 1000) / framedIn).toFixed(1)} documents/s)`,
          `[soak] ${reads.length} reads of the framer: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, ` +
            `max ${(latencies.at(-1) ?? 0).toFixed(0)} ms; slowest: ${slowest.map((r) => `${r.what} ${r.ms.toFixed(0)} ms`).join(', ')}`,
          '',
        ].join('\n'),
      );

      expect(new Set(uploaded).size).toBe(DOCUMENTS);
      expect(framed.filter((d) => uploaded.includes(d.id)).map((d) => d.status)).toEqual(Array(DOCUMENTS).fill('framed'));
      // 404: a document the framer has not received yet (its upload still on the way).
      expect(reads.filter((r) => r.status !== 200 && !(r.status === 404 && r.what.endsWith('/documents/:id')))).toEqual([]);
      // Enough reads while the documents were uploaded and framed for the slowest to mean something (framing
      // 200 documents takes seconds, not minutes).
      expect(reads.length).toBeGreaterThanOrEqual(MIN_READS);
      expect(latencies.at(-1) ?? 0).toBeLessThan(SLOWEST_READ_MS);
    } finally {
      uploading = false;
      await reader.catch(() => undefined);
    }
  }, 240_000);
});
