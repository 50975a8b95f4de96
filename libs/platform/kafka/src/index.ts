import './kafkajs-fixes';
export * from './batch-processor';
export * from './dead-letter-reader';
export * from './kafka-event-bus';
export { consoleEventBusLogger, type KafkaLogLevel } from './logging';
export * from './recent-ids';
