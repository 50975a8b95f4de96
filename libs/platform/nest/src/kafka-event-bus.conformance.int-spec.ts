import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { DEAD_LETTER_V1, TOPIC_NAMES, type DeadLetterRecordV1 } from '@studio/contracts';
import { isTransientTopicError, KafkaDeadLetterReader, KafkaEventBus } from '@studio/kafka';
import type { EventBusLogger } from '@studio/ports';
import { RedisProcessedEventStore } from '@studio/redis';
import { describeEventBusConformance, describeWithServers, eventually, uniqueName } from '@studio/testing';

const quiet: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const PARTITIONS = 3;

describeWithServers(['KAFKA_BROKERS', 'REDIS_URL'], 'KafkaEventBus on a real Kafka, de-duplicating through Redis', (urls) => {
  const brokers = urls.KAFKA_BROKERS?.split(',') ?? [];
  const kafka = new Kafka({ clientId: 'conformance-admin', brokers, logLevel: logLevel.NOTHING });
  let redis: Redis;
  let keyPrefix: string;

  /**
   * Creates a case's topics before its buses start, so that its dead-letter reader (which creates
   * none) has its topic; retried on the errors of a broker still electing leaders, as the bus does.
   */
  async function createTopics(names: string[]): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions: PARTITIONS })) });
          break;
        } catch (err) {
          if (attempt >= 5 || !isTransientTopicError(err)) throw err;
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
      await eventually(async () => {
        const existing = new Set(await admin.listTopics());
        return names.every((name) => existing.has(name));
      });
    } finally {
      await admin.disconnect();
    }
  }

  async function deleteTopics(names: string[]): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: names, timeout: 10_000 });
    } catch {
      // Left for the broker's retention: the names are unique to this run.
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    redis = new Redis(urls.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    keyPrefix = uniqueName('conformance');
  });

  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  describeEventBusConformance(
    'KafkaEventBus',
    async () => {
      // Each case has its own topics (a prefix) and reads its own dead-letter topic.
      const topicPrefix = `${uniqueName('conformance')}.`;
      const topics = [...TOPIC_NAMES, DEAD_LETTER_V1].map((topic) => `${topicPrefix}${topic}`);
      await createTopics(topics);
      const processedEvents = new RedisProcessedEventStore(redis, { keyPrefix, ttlSeconds: 3_600 });
      const letters: DeadLetterRecordV1[] = [];
      let reader: KafkaDeadLetterReader | null = null;
      let reading: Promise<void> | null = null;
      return {
        bus: ({ groupId, retry }) =>
          new KafkaEventBus({
            clientId: groupId,
            brokers,
            groupId,
            topicPrefix,
            processedEvents,
            retry,
            logger: quiet,
            partitions: PARTITIONS,
          }),
        deadLetters: async () => {
          reading ??= (async () => {
            reader = new KafkaDeadLetterReader({ clientId: 'dlq', brokers, groupId: uniqueName('dlq'), topicPrefix, logger: quiet });
            await reader.start(async ({ record }) => {
              letters.push(record);
            });
          })();
          await reading;
          return [...letters];
        },
        transportTopic: (topic) => `${topicPrefix}${topic}`,
        publishRaw: async (bus, topic, key, value) => (bus as KafkaEventBus).publishRaw(topic, key, value),
        dispose: async () => {
          await reading?.catch(() => undefined);
          await (reader as KafkaDeadLetterReader | null)?.stop().catch(() => undefined);
          await deleteTopics(topics);
        },
      };
    },
    60_000,
  );
});
