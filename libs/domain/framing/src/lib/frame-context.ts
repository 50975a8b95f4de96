import { DatasetVersion, buildDatasetVersion } from './dataset';
import { generateExamples } from './generate';
import { DocumentTree, Example, MediaType, NormativeKind, NormativeStatement } from './model';
import { parseDocument } from './parse';
import { importSeeds } from './seeds';
import { DatasetSplit, splitDataset } from './split';
import { countStatementsByKind, extractStatements } from './statements';
import { ContextValues } from './values';

export interface FrameContextInput {
  contextId: string;
  documentId: string;
  /** The document's text or bytes. */
  document: string | Uint8Array;
  mediaType?: MediaType;
  /** Contents of the context's seeds.jsonl; omitted → no seeds. */
  seedsJsonl?: string;
  values?: ContextValues | null;
  seed: number;
  heldOutRatio: number;
  qaPerStatement?: number;
  scenariosPerStatement?: number;
}

export interface FrameContextResult {
  tree: DocumentTree;
  statements: NormativeStatement[];
  seeds: Example[];
  generated: Example[];
  split: DatasetSplit;
  version: DatasetVersion;
  counts: {
    sections: number;
    clauses: number;
    clausesByKind: Record<string, number>;
    statements: number;
    statementsByKind: Record<NormativeKind, number>;
    seeds: number;
    generated: number;
    train: number;
    heldOut: number;
    examplesByKind: Record<string, number>;
    clauseCoverage: number | null;
  };
}

/**
 * The whole framing pass for one document: parse, extract statements, import seeds, generate
 * template examples, split and build the dataset version. Pure: the caller reads the files.
 */
export function frameContext(input: FrameContextInput): FrameContextResult {
  const tree = parseDocument(input.document, { documentId: input.documentId, mediaType: input.mediaType });
  const statements = extractStatements(tree);
  const seeds = input.seedsJsonl ? importSeeds(input.seedsJsonl, tree, { values: input.values }) : [];
  const generated = generateExamples(tree, statements, {
    seed: input.seed,
    values: input.values,
    qaPerStatement: input.qaPerStatement,
    scenariosPerStatement: input.scenariosPerStatement,
  });
  const split = splitDataset([...seeds, ...generated], { heldOutRatio: input.heldOutRatio, seed: input.seed });
  const version = buildDatasetVersion({ contextId: input.contextId, split, clauseIds: tree.clauses.map((c) => c.id) });
  const clausesByKind: Record<string, number> = {};
  for (const c of tree.clauses) clausesByKind[c.kind] = (clausesByKind[c.kind] ?? 0) + 1;
  return {
    tree,
    statements,
    seeds,
    generated,
    split,
    version,
    counts: {
      sections: tree.sections.length,
      clauses: tree.clauses.length,
      clausesByKind,
      statements: statements.length,
      statementsByKind: countStatementsByKind(statements),
      seeds: seeds.length,
      generated: generated.length,
      train: version.train.length,
      heldOut: version.heldOut.length,
      examplesByKind: { ...version.examplesByKind },
      clauseCoverage: version.clauseCoverage,
    },
  };
}
