// Smoke test of the local servers with the clients the services use: node deploy/local/smoke.cjs
// (after `npm run infra:up` and `source .data/local/env.sh`). Leaves no data behind.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');
const Redis = require('ioredis');
const { QdrantClient } = require('@qdrant/js-client-rest');
(async () => {
  // Kafka produce / consume
  const kafka = new Kafka({ clientId: 'smoke', brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.WARN });
  const topic = 'smoke-' + Date.now();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'k', value: 'hello kafka' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'smoke-' + Date.now() });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message in 30s')), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        clearTimeout(t);
        resolve(message.value.toString());
      },
    });
  });
  await consumer.disconnect();
  console.log('kafka consumed:', got);
  // FerretDB
  const m = new MongoClient(process.env.MONGO_URL);
  await m.connect();
  const col = m.db('smoke').collection('docs');
  await col.insertOne({ _id: 'x1', tenant: 'acme', n: 42 });
  console.log('mongo found:', await col.findOne({ tenant: 'acme' }));
  await m.db('smoke').dropDatabase();
  await m.close();
  // Redis
  const r = new Redis(process.env.REDIS_URL);
  console.log('redis:', await r.ping(), (await r.info('server')).match(/redis_version:(\S+)/)[1]);
  r.disconnect();
  // Qdrant stand-in through the official JS client
  const q = new QdrantClient({ url: process.env.QDRANT_URL });
  const name = 'smoke_' + Date.now();
  console.log('qdrant version:', (await q.versionInfo()).version, 'exists:', (await q.collectionExists(name)).exists);
  await q.createCollection(name, { vectors: { dense: { size: 3, distance: 'Cosine' } }, sparse_vectors: { sparse: {} } });
  await q.createPayloadIndex(name, { field_name: 'tenant', field_schema: 'keyword', wait: true });
  await q.upsert(name, {
    wait: true,
    points: [
      { id: 1, vector: { dense: [1, 0, 0], sparse: { indices: [1], values: [1] } }, payload: { tenant: 'acme' } },
      { id: 2, vector: { dense: [0, 1, 0], sparse: { indices: [2], values: [1] } }, payload: { tenant: 'other' } },
    ],
  });
  const res = await q.query(name, {
    prefetch: [
      { query: [1, 0, 0], using: 'dense', limit: 5 },
      { query: { indices: [1], values: [1] }, using: 'sparse', limit: 5 },
    ],
    query: { fusion: 'rrf' },
    filter: { must: [{ key: 'tenant', match: { value: 'acme' } }] },
    limit: 5,
    with_payload: true,
  });
  console.log('qdrant query:', JSON.stringify(res.points));
  console.log(
    'qdrant count:',
    (await q.count(name, { exact: true })).count,
    'scroll:',
    JSON.stringify(await q.scroll(name, { limit: 1 })).slice(0, 120),
  );
  console.log('qdrant retrieve:', JSON.stringify(await q.retrieve(name, { ids: [2] })));
  await q.delete(name, { wait: true, filter: { must: [{ key: 'tenant', match: { value: 'other' } }] } });
  console.log('qdrant count after delete:', (await q.count(name)).count, 'collections:', (await q.getCollections()).collections.length);
  console.log('qdrant info status:', (await q.getCollection(name)).status);
  try {
    await q.getCollection('missing_' + name);
  } catch (e) {
    console.log('qdrant 404 ->', e.constructor.name, e.status, JSON.stringify(e.data));
  }
  console.log('delete collection:', await q.deleteCollection(name));
})().catch((e) => {
  console.error('FAILED', e);
  process.exit(1);
});
