export {};
export * from './event-bus';
export * from './vector-index';
export * from './job-queue';
export * from './repository';
export * from './sqlite-store';
export * from './artifact-store';
