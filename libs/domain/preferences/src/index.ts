// Preferences: what people, the framer and the auditor say about pairs of answers, weighed by the
// context's value priorities into immutable preference datasets for DPO and reward models.
export * from './lib/records';
export * from './lib/aggregate';
export * from './lib/synthetic';
export * from './lib/model-pairs';
export * from './lib/trl';
export * from './lib/datasets';
