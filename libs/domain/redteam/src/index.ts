// Red-teaming from the context's own rules: attack goals and attacks, adaptive attacks, benign probes.
// --- attacks (goals, strategies, attacks, adaptive attacker, benign probes) ---
export * from './lib/goals';
export * from './lib/strategies';
export * from './lib/attacks';
export * from './lib/adaptive';
export * from './lib/benign';
export * from './lib/export';
// --- end attacks ---
