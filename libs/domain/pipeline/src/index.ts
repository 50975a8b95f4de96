// The alignment pipeline's use cases, over ports only: the embedded CLI (apps/studio) and the
// distributed services (framer, ontology, instructor, auditor) run the same code.
export * from './lib/align';
export * from './lib/audit';
export * from './lib/red-team-audit';
export * from './lib/clause-browser';
export * from './lib/context-values';
export * from './lib/data-report';
export * from './lib/document-versions';
export * from './lib/erase';
export * from './lib/events';
export * from './lib/frame';
export * from './lib/hyperparameters';
export * from './lib/index-clauses';
export * from './lib/ontology-retrieval';
export * from './lib/ports';
export * from './lib/records';
export * from './lib/review';
export * from './lib/synthesize';
export * from './lib/train';
export * from './lib/compare';
export * from './lib/grounded-chat';
