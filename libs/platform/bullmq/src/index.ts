export * from './connection';
export * from './job-queue';
export * from './job-worker';
export * from './job-events';
