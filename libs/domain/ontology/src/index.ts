export * from './lib/model';
export * from './lib/labels';
export * from './lib/build';
export * from './lib/graph';
export * from './lib/matcher';
export * from './lib/skos';
