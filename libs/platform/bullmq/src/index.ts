export * from './connection';
export * from './job-queue';
export * from './job-worker';
