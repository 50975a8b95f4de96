import { Schema, type Connection, type Model } from 'mongoose';
import type { ProcessedEventRef, ProcessedEventStore } from '@studio/ports';

export const PROCESSED_EVENTS_COLLECTION = 'processed_events';

/** Where handler attempts are counted: the collection of processed events, with this suffix. */
export const ATTEMPTS_COLLECTION_SUFFIX = '_attempts';

/** Handler attempts at one event by one consumer group, while it is not yet processed; `_id` is `<group>:<eventId>`. */
export interface EventAttemptsDocument {
  _id: string;
  group: string;
  eventId: string;
  attempts: number;
  lastAttemptAt: Date;
}

/** One handled event of one consumer group; `_id` is `<group>:<eventId>`, so a repeat is the same document. */
export interface ProcessedEventDocument {
  _id: string;
  group: string;
  eventId: string;
  topic: string;
  /** Absent where the transport has no partitions. */
  partition?: number;
  processedAt: Date;
}

function modelFor(connection: Connection, collection: string): Model<ProcessedEventDocument> {
  const name = `ProcessedEvent:${collection}`;
  const existing = connection.models[name] as Model<ProcessedEventDocument> | undefined;
  if (existing) return existing;
  const schema = new Schema<ProcessedEventDocument>(
    {
      _id: { type: String, required: true },
      group: { type: String, required: true },
      eventId: { type: String, required: true },
      topic: { type: String, required: true },
      partition: { type: Number, required: false },
      processedAt: { type: Date, required: true },
    },
    { collection, versionKey: false, autoIndex: false, autoCreate: false },
  );
  return connection.model<ProcessedEventDocument>(name, schema);
}

function attemptsModelFor(connection: Connection, collection: string): Model<EventAttemptsDocument> {
  const name = `EventAttempts:${collection}`;
  const existing = connection.models[name] as Model<EventAttemptsDocument> | undefined;
  if (existing) return existing;
  const schema = new Schema<EventAttemptsDocument>(
    {
      _id: { type: String, required: true },
      group: { type: String, required: true },
      eventId: { type: String, required: true },
      attempts: { type: Number, required: true },
      lastAttemptAt: { type: Date, required: true },
    },
    { collection, versionKey: false, autoIndex: false, autoCreate: false },
  );
  return connection.model<EventAttemptsDocument>(name, schema);
}

/**
 * The event ids each consumer group has handled, in the service's own database. Writes are
 * idempotent inserts of a deterministic `_id` (a repeat is a duplicate key, ignored, so the
 * first processing time stays); lookups are by `_id` only. Works on MongoDB and FerretDB
 * (no transactions needed).
 *
 * Handler attempts are counted in `<collection>_attempts` (`$inc` upsert of the same `_id`);
 * remembering an event with `attempted: true` deletes its count, so that collection holds only
 * the events in hand, and stays small.
 */
export class MongoProcessedEventStore implements ProcessedEventStore {
  private readonly model: Model<ProcessedEventDocument>;
  private readonly attempts: Model<EventAttemptsDocument>;

  constructor(connection: Connection, collection: string = PROCESSED_EVENTS_COLLECTION) {
    this.model = modelFor(connection, collection);
    this.attempts = attemptsModelFor(connection, `${collection}${ATTEMPTS_COLLECTION_SUFFIX}`);
  }

  static key(consumerGroup: string, eventId: string): string {
    return `${consumerGroup}:${eventId}`;
  }

  async has(consumerGroup: string, eventId: string): Promise<boolean> {
    const found = await this.model.exists({ _id: MongoProcessedEventStore.key(consumerGroup, eventId) });
    return found !== null;
  }

  async remember(consumerGroup: string, eventId: string, topic: string): Promise<void> {
    await this.rememberMany(consumerGroup, [{ eventId, topic }]);
  }

  async seenAmong(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const keys = eventIds.map((id) => MongoProcessedEventStore.key(consumerGroup, id));
    const found = await this.model
      .find({ _id: { $in: keys } }, { eventId: 1 })
      .lean<Array<Pick<ProcessedEventDocument, '_id' | 'eventId'>>>();
    return new Set(found.map((d) => d.eventId));
  }

  async rememberMany(consumerGroup: string, events: readonly ProcessedEventRef[]): Promise<void> {
    if (events.length === 0) return;
    const processedAt = new Date();
    const unique = new Map(events.map((e) => [MongoProcessedEventStore.key(consumerGroup, e.eventId), e]));
    try {
      // Unordered inserts of deterministic ids: one round trip, and a repeat fails alone with a
      // duplicate key (the first processing time stays). On FerretDB this is far cheaper than
      // upserts, which look each document up first.
      await this.model.insertMany(
        [...unique].map(([_id, e]) => ({
          _id,
          group: consumerGroup,
          eventId: e.eventId,
          topic: e.topic,
          ...(e.partition === undefined ? {} : { partition: e.partition }),
          processedAt,
        })),
        { ordered: false, lean: true },
      );
    } catch (err) {
      if (!onlyDuplicateKeyErrors(err)) throw err;
    }
    const attempted = [...unique].flatMap(([_id, e]) => (e.attempted ? [_id] : []));
    if (attempted.length > 0) await this.attempts.deleteMany({ _id: { $in: attempted } });
  }

  async countAttempt(consumerGroup: string, eventId: string): Promise<number> {
    const _id = MongoProcessedEventStore.key(consumerGroup, eventId);
    const update = { $inc: { attempts: 1 }, $set: { group: consumerGroup, eventId, lastAttemptAt: new Date() } };
    for (let tries = 1; ; tries++) {
      try {
        const doc = await this.attempts
          .findOneAndUpdate({ _id }, update, { upsert: true, returnDocument: 'after' })
          .lean<EventAttemptsDocument>();
        if (!doc) throw new Error(`counting an attempt at event ${eventId} of group "${consumerGroup}" returned no document`);
        return doc.attempts;
      } catch (err) {
        // Two first attempts at once may both insert: the loser finds the document the next time.
        if (tries >= 2 || !onlyDuplicateKeyErrors(err)) throw err;
      }
    }
  }

  async clearAttempts(consumerGroup: string, eventId: string): Promise<void> {
    await this.attempts.deleteOne({ _id: MongoProcessedEventStore.key(consumerGroup, eventId) });
  }

  async processedInPartition(
    consumerGroup: string,
    topic: string,
    partition: number,
    since: Date,
    limit: number,
  ): Promise<string[] | null> {
    const found = await this.model
      .find({ group: consumerGroup, topic, partition, processedAt: { $gte: since } }, { _id: 0, eventId: 1 })
      .limit(limit + 1)
      .lean<Array<Pick<ProcessedEventDocument, 'eventId'>>>();
    return found.length > limit ? null : found.map((d) => d.eventId);
  }

  /** Forgets a group's records (for tests and for deliberately re-processing a topic from the start). */
  async forgetGroup(consumerGroup: string): Promise<number> {
    const result = await this.model.deleteMany({ group: consumerGroup });
    await this.attempts.deleteMany({ group: consumerGroup });
    return result.deletedCount;
  }

  /** Index for forgetGroup and housekeeping by age. Idempotent. */
  async ensureIndexes(): Promise<void> {
    await this.model.collection.createIndex({ group: 1, processedAt: 1 }, { name: 'group_processedAt' });
    await this.model.collection.createIndex(
      { group: 1, topic: 1, partition: 1, processedAt: 1 },
      { name: 'group_topic_partition_processedAt' },
    );
  }
}

const DUPLICATE_KEY = 11000;

/** True for a bulk write whose every failure is a duplicate key (the id was already there). */
function onlyDuplicateKeyErrors(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; writeErrors?: unknown };
  // The driver reports one write error as an object, several as an array.
  const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  if (writeErrors.length > 0) return writeErrors.every((w: { code?: unknown }) => w.code === DUPLICATE_KEY);
  return e.code === DUPLICATE_KEY;
}
