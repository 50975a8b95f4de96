import { describeWithServers, uniqueName } from '@studio/testing';
import { connectMongo, type MongoDatabase } from './connection';
import { ATTEMPTS_COLLECTION_SUFFIX, MongoProcessedEventStore, PROCESSED_EVENTS_COLLECTION } from './processed-events';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeWithServers(['MONGO_URL'], 'MongoProcessedEventStore (real MongoDB-compatible server)', (urls) => {
  let db: MongoDatabase;
  let store: MongoProcessedEventStore;

  beforeAll(async () => {
    db = await connectMongo(urls.MONGO_URL, uniqueName('processed').replace(/[^A-Za-z0-9_-]/g, '_'), quiet);
    store = new MongoProcessedEventStore(db.connection);
    await store.ensureIndexes();
  });

  afterAll(async () => {
    await db.connection.dropDatabase().catch(() => undefined);
    await db.close();
  });

  it('remembers per group, idempotently, keeping the first processing time', async () => {
    expect(await store.has('framer', 'evt-1')).toBe(false);
    await store.remember('framer', 'evt-1', 'policy.document.uploaded.v1');
    const first = await db.connection.collection(PROCESSED_EVENTS_COLLECTION).findOne({ _id: 'framer:evt-1' as never });
    await new Promise((r) => setTimeout(r, 5));
    await store.remember('framer', 'evt-1', 'policy.document.uploaded.v1');
    expect(await store.has('framer', 'evt-1')).toBe(true);
    expect(await store.has('auditor', 'evt-1')).toBe(false);
    const docs = await db.connection.collection(PROCESSED_EVENTS_COLLECTION).find({ eventId: 'evt-1' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ _id: 'framer:evt-1', group: 'framer', eventId: 'evt-1', topic: 'policy.document.uploaded.v1' });
    expect((docs[0]?.['processedAt'] as Date).getTime()).toBe((first?.['processedAt'] as Date).getTime());
  });

  it('answers and writes batches, with repeats inside a batch', async () => {
    await store.rememberMany('g2', [
      { eventId: 'a', topic: 't' },
      { eventId: 'b', topic: 't' },
      { eventId: 'a', topic: 't' },
    ]);
    await store.rememberMany('g2', [{ eventId: 'b', topic: 't' }]);
    expect(await store.seenAmong('g2', ['a', 'b', 'c'])).toEqual(new Set(['a', 'b']));
    expect(await store.seenAmong('g3', ['a', 'b'])).toEqual(new Set());
    expect(await store.seenAmong('g2', [])).toEqual(new Set());
    expect(await store.forgetGroup('g2')).toBe(2);
    expect(await store.has('g2', 'a')).toBe(false);
  });

  it('lists the ids processed in one topic partition since a time, or null above the limit', async () => {
    await store.rememberMany('g4', [
      { eventId: 'p0-a', topic: 'k.t', partition: 0 },
      { eventId: 'p0-b', topic: 'k.t', partition: 0 },
      { eventId: 'p1-a', topic: 'k.t', partition: 1 },
      { eventId: 'other', topic: 'k.u', partition: 0 },
    ]);
    const past = new Date(Date.now() - 60_000);
    expect((await store.processedInPartition('g4', 'k.t', 0, past, 10))?.sort()).toEqual(['p0-a', 'p0-b']);
    expect(await store.processedInPartition('g4', 'k.t', 1, past, 10)).toEqual(['p1-a']);
    expect(await store.processedInPartition('g4', 'k.t', 0, new Date(Date.now() + 60_000), 10)).toEqual([]);
    expect(await store.processedInPartition('g4', 'k.t', 0, past, 1)).toBeNull();
    expect(await store.processedInPartition('g5', 'k.t', 0, past, 10)).toEqual([]);
  });

  it('survives concurrent remembers of the same event (no duplicate-key failure)', async () => {
    await Promise.all(Array.from({ length: 8 }, () => store.remember('race', 'evt-r', 't')));
    expect(await store.has('race', 'evt-r')).toBe(true);
  });

  it('counts attempts durably per group and event id until the event is remembered or cleared', async () => {
    expect(await store.countAttempt('att', 'e1')).toBe(1);
    expect(await store.countAttempt('att', 'e1')).toBe(2);
    // Another instance on the same database (a restarted consumer, another member) continues it.
    expect(await new MongoProcessedEventStore(db.connection).countAttempt('att', 'e1')).toBe(3);
    expect(await store.countAttempt('att-b', 'e1')).toBe(1);
    const first = await Promise.all([store.countAttempt('att', 'e2'), store.countAttempt('att', 'e2')]);
    expect(first.sort()).toEqual([1, 2]);
    await store.clearAttempts('att', 'e1');
    expect(await store.countAttempt('att', 'e1')).toBe(1);
    await store.rememberMany('att', [
      { eventId: 'e1', topic: 't', attempted: true },
      { eventId: 'e2', topic: 't', attempted: true },
    ]);
    const left = await db.connection
      .collection(`${PROCESSED_EVENTS_COLLECTION}${ATTEMPTS_COLLECTION_SUFFIX}`)
      .find({ group: { $in: ['att', 'att-b'] } })
      .toArray();
    expect(left.map((d) => d['_id'])).toEqual(['att-b:e1']);
  });
});
