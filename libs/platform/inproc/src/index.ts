export {};
export * from './event-bus';
export * from './vector-index';
