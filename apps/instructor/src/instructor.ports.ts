/** Injection tokens of the instructor's repositories (its own database), its training queue and the shared artifact folder. */
export const DATASETS_REPOSITORY = Symbol('DATASETS_REPOSITORY');
export const CLAUSE_INDEXES_REPOSITORY = Symbol('CLAUSE_INDEXES_REPOSITORY');
export const RUNS_REPOSITORY = Symbol('RUNS_REPOSITORY');
export const ADAPTERS_REPOSITORY = Symbol('ADAPTERS_REPOSITORY');
export const PREFERENCE_DATASETS_REPOSITORY = Symbol('PREFERENCE_DATASETS_REPOSITORY');
export const TRAINING_QUEUE = Symbol('TRAINING_QUEUE');
export const ARTIFACTS = Symbol('ARTIFACTS');
