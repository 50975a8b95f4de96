// Throughput and publish-to-consume latency of our KafkaEventBus against raw kafkajs, in one run.
//   npm run bench:event-bus          (BENCH_EVENTS=10000 BENCH_BATCH=500 BENCH_STORES=memory,redis,mongo)
// Needs Kafka (KAFKA_BROKERS or deploy/local); the Redis store also needs REDIS_URL, the Mongo store MONGO_URL.
// Same settings on both sides: idempotent producer, acks=all, default (murmur2) partitioner,
// 3 partitions, batches of BENCH_BATCH events per send, eachBatch consumer over 3 partitions.
// The raw consumer only parses the JSON; ours decodes and validates the CloudEvent, deduplicates
// through the store, and commits after handling.
import './register-paths';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { buildCloudEvent, DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { KafkaEventBus } from '@studio/kafka';
import { connectMongo, MongoProcessedEventStore, type MongoDatabase } from '@studio/mongo';
import type { EventBusLogger, ProcessedEventStore } from '@studio/ports';
import { RedisProcessedEventStore } from '@studio/redis';
import { serverUrl, uniqueName } from '@studio/testing';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 10_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 500);
const PARTITIONS = 3;
const STORES = (process.env['BENCH_STORES'] ?? 'memory,redis,mongo').split(',').filter(Boolean);
const TOPIC = DOCUMENT_UPLOADED_V1;

const brokersUrl = serverUrl('KAFKA_BROKERS');
if (!brokersUrl) {
  console.error('KAFKA_BROKERS is not set and deploy/local is not up (npm run infra:up)');
  process.exit(2);
}
const brokers = brokersUrl.split(',');
const quiet: EventBusLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => console.warn(m),
  error: (m, f) => console.error(m, f),
};

/** About 1 KB of JSON per event, in ten contexts. */
function makeEvents(n: number, runId: string): CloudEvent<DocumentUploadedV1>[] {
  return Array.from({ length: n }, (_, i) => {
    const contextId = `ctx-${i % 10}`;
    const event = buildCloudEvent<DocumentUploadedV1>({
      topic: TOPIC,
      source: '/studio/bench',
      tenantId: 'bench',
      contextId,
      id: `${runId}-${i}`,
      data: {
        version: 'v1',
        contextId,
        documentId: `doc-${i}`,
        filename: `policy-${i}.md`,
        mediaType: 'text/markdown',
        sha256: 'e'.repeat(64),
        sizeBytes: 1024,
        storageUri: `file:///bench/${'x'.repeat(560)}/${i}`,
      },
    });
    return event;
  });
}

interface Result {
  name: string;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  bytesPerEvent: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summarise(
  name: string,
  sentAt: Map<string, number>,
  receivedAt: Map<string, number>,
  start: number,
  bytesPerEvent: number,
): Result {
  const latencies = [...receivedAt].map(([id, t]) => t - (sentAt.get(id) ?? t)).sort((a, b) => a - b);
  const end = Math.max(...receivedAt.values());
  return {
    name,
    eventsPerSecond: (receivedAt.size / (end - start)) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bytesPerEvent,
  };
}

function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

async function runRaw(): Promise<Result> {
  const prefix = `${uniqueName('bench-raw')}.`;
  const topic = `${prefix}${TOPIC}`;
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: uniqueName('bench-raw'), allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const receivedAt = new Map<string, number>();
  await consumer.run({
    partitionsConsumedConcurrently: PARTITIONS,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) {
        const event = JSON.parse(m.value?.toString() ?? '') as { id: string };
        receivedAt.set(event.id, performance.now());
        resolveOffset(m.offset);
      }
      await heartbeat();
    },
  });
  const send = (events: CloudEvent<DocumentUploadedV1>[]) =>
    producer.send({
      topic,
      acks: -1,
      messages: events.map((e) => ({
        key: e.partitionkey,
        value: JSON.stringify(e),
        headers: { 'content-type': 'application/cloudevents+json' },
      })),
    });
  const warmup = makeEvents(1, uniqueName('warm'));
  await send(warmup);
  await waitFor(() => receivedAt.size === 1, 60_000, 'raw warm-up');
  receivedAt.clear();

  const events = makeEvents(EVENTS, uniqueName('raw'));
  const sentAt = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const slice = events.slice(i, i + BATCH);
    const t = performance.now();
    for (const e of slice) sentAt.set(e.id, t);
    await send(slice);
  }
  await waitFor(() => receivedAt.size >= EVENTS, 300_000, 'raw consumption');
  const result = summarise('raw kafkajs', sentAt, receivedAt, start, Buffer.byteLength(JSON.stringify(events[0])));
  await consumer.disconnect();
  await producer.disconnect();
  return result;
}

async function runOurs(storeName: string, store: ProcessedEventStore): Promise<Result> {
  const prefix = `${uniqueName('bench-bus')}.`;
  const bus = new KafkaEventBus({
    clientId: 'bench-bus',
    brokers,
    groupId: uniqueName('bench-bus'),
    topicPrefix: prefix,
    partitions: PARTITIONS,
    processedEvents: store,
    logger: quiet,
  });
  const receivedAt = new Map<string, number>();
  bus.subscribe(TOPIC, async (event) => {
    receivedAt.set(event.id, performance.now());
  });
  await bus.start();
  await bus.publishMany(TOPIC, makeEvents(1, uniqueName('warm')));
  await waitFor(() => receivedAt.size === 1, 60_000, 'event bus warm-up');
  receivedAt.clear();

  const events = makeEvents(EVENTS, uniqueName('bus'));
  const sentAt = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const slice = events.slice(i, i + BATCH);
    const t = performance.now();
    for (const e of slice) sentAt.set(e.id, t);
    await bus.publishMany(TOPIC, slice);
  }
  await waitFor(() => receivedAt.size >= EVENTS, 300_000, 'event bus consumption');
  const result = summarise(
    `KafkaEventBus (${storeName} dedup store)`,
    sentAt,
    receivedAt,
    start,
    Buffer.byteLength(JSON.stringify(events[0])),
  );
  await bus.stop();
  return result;
}

async function main() {
  console.log(`events: ${EVENTS}, batch: ${BATCH}, partitions: ${PARTITIONS}, brokers: ${brokers.join(',')}, node ${process.version}`);
  const results: Result[] = [];
  let mongo: MongoDatabase | undefined;
  let redis: Redis | undefined;
  const redisPrefix = uniqueName('bench');
  const raw = await runRaw();
  results.push(raw);
  for (const name of STORES) {
    if (name === 'memory') {
      results.push(await runOurs('in-memory', new InMemoryProcessedEventStore()));
    } else if (name === 'redis') {
      const url = serverUrl('REDIS_URL');
      if (!url) {
        console.warn('REDIS_URL not set: skipping the Redis dedup store run');
        continue;
      }
      redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
      await redis.connect();
      results.push(await runOurs('Redis', new RedisProcessedEventStore(redis, { keyPrefix: redisPrefix })));
    } else if (name === 'mongo') {
      const url = serverUrl('MONGO_URL');
      if (!url) {
        console.warn('MONGO_URL not set: skipping the Mongo dedup store run');
        continue;
      }
      mongo = await connectMongo(url, uniqueName('bench').replace(/-/g, '_'), quiet);
      results.push(await runOurs('MongoDB/FerretDB', new MongoProcessedEventStore(mongo.connection)));
    } else {
      throw new Error(`unknown BENCH_STORES entry "${name}" (memory, redis, mongo)`);
    }
  }
  if (redis) {
    for await (const keys of redis.scanStream({ match: `${redisPrefix}:*`, count: 1_000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
    await redis.quit();
  }
  if (mongo) {
    await mongo.connection.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
  console.log('');
  console.log('| run | events/s | ours/raw | p50 ms | p99 ms | bytes/event |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.eventsPerSecond.toFixed(0)} | ${(r.eventsPerSecond / raw.eventsPerSecond).toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.bytesPerEvent} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
