export * from './artifact-store';
export * from './repository';
export * from './vector-index';
