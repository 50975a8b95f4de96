// Red teaming derived from the rules: attacks and benign probes from a context's statements, judging of
// the audited model's replies, attack success with confidence intervals, and a general-ability check.
export * from './lib/attack-types';
export * from './lib/judge-attack';
export * from './lib/stats';
export * from './lib/benign-score';
export * from './lib/general-ability';
