import { ConfigError } from '@studio/config';
import { eventServiceModules, type EventServiceConfig } from './event-service';

const config: EventServiceConfig = {
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  KAFKA_GROUP_ID: 'studio-framer',
  KAFKA_TOPIC_PREFIX: '',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  MONGO_DB: 'studio_framer',
  KAFKA_SESSION_TIMEOUT_MS: 30_000,
  KAFKA_HANDLER_TIMEOUT_MS: 20_000,
  STUDIO_PROFILE: 'distributed',
};

describe('eventServiceModules', () => {
  it('refuses a handler time limit that is not below the consumer session, naming both variables', () => {
    expect(() => eventServiceModules('framer', { ...config, KAFKA_HANDLER_TIMEOUT_MS: 30_000 })).toThrow(ConfigError);
    expect(() => eventServiceModules('framer', { ...config, KAFKA_HANDLER_TIMEOUT_MS: 45_000 })).toThrow(
      /framer: invalid configuration[\s\S]*KAFKA_HANDLER_TIMEOUT_MS \(45000\) must be below KAFKA_SESSION_TIMEOUT_MS \(30000\)/,
    );
    expect(eventServiceModules('framer', config)).toHaveLength(2);
  });
});
