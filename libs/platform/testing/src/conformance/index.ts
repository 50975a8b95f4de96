export * from './artifact-store';
export * from './repository';
export * from './vector-index';
export * from './job-queue';
export * from './event-bus';
