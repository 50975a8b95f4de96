import type { Concept, Relation } from '@studio/contracts';
import type { DocumentTree, NormativeStatement } from '@studio/framing';

/** One framed document version: its parsed tree and its statements (extractStatements of @studio/framing). */
export interface OntologySource {
  documentId: string;
  sha256: string;
  version: number;
  tree: DocumentTree;
  statements: readonly NormativeStatement[];
}

/** A graph's content: concepts and relations, each sorted by id. */
export interface ExtractedGraph {
  concepts: Concept[];
  relations: Relation[];
}
