export * from './point-id';
export * from './qdrant-vector-index';
