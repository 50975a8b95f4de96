export * from './event-bus';
export * from './job-queue';
export * from './llm-client';
export * from './repository';
export * from './tenant';
export * from './vector-index';
export * from './sparse';
export * from './hybrid';
