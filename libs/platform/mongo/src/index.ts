export * from './connection';
export * from './mongo-repository';
export * from './query';
