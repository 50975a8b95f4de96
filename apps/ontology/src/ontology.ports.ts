/** Injection tokens of the ontology's clause-index repository (its own database), retrieval ports and the shared artifact folder. */
export const CLAUSE_INDEXES_REPOSITORY = Symbol('CLAUSE_INDEXES_REPOSITORY');
export const RETRIEVAL_PORTS = Symbol('RETRIEVAL_PORTS');
export const ARTIFACTS = Symbol('ARTIFACTS');
/** The graph's repositories, artifacts and publishing (GraphPorts). */
export const GRAPH_PORTS = Symbol('GRAPH_PORTS');
/** Injection token of the latest ontology graph per context (`LatestGraphs` of the retrieval controller). */
export const LATEST_GRAPHS = Symbol('LATEST_GRAPHS');
