export { RedisProcessedEventStore, DEFAULT_PROCESSED_TTL_SECONDS, type RedisProcessedEventStoreOptions } from './processed-events';
