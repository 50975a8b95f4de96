// Red-teaming from the context's own rules: attack goals and attacks, adaptive attacks, benign probes,
// judging of the audited model's replies, attack success with confidence intervals, general ability.
// --- attacks (goals, strategies, attacks, adaptive attacker, benign probes) ---
export * from './lib/goals';
export * from './lib/strategies';
export * from './lib/attacks';
export * from './lib/adaptive';
export * from './lib/benign';
export * from './lib/export';
// --- end attacks ---
// --- judging (attack judgements, success statistics, benign scoring, general ability) ---
export * from './lib/judge-attack';
export * from './lib/stats';
export * from './lib/benign-score';
export * from './lib/general-ability';
// --- end judging ---
