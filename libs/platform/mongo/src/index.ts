export * from './connection';
export * from './mongo-repository';
export * from './query';
export * from './processed-events';
