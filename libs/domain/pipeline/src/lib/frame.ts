import { createHash } from 'node:crypto';
import { DATASET_VERSION_PUBLISHED_V1, DOCUMENT_FRAMED_V1, DOCUMENT_UPLOADED_V1 } from '@studio/contracts';
import {
  buildDatasetVersion,
  countStatementsByKind,
  extractStatements,
  generateExamples,
  importSeeds,
  normaliseQuestion,
  parseDocument,
  splitDataset,
  toConversationalJsonl,
  type ContextValues,
  type DatasetVersion,
  type DocumentTree,
  type Example,
  type MediaType,
  type NormativeKind,
  type NormativeStatement,
} from '@studio/framing';
import type { TenantId } from '@studio/ports';
import { publishEvent } from './events';
import type { ArtifactStore, PipelinePorts } from './ports';
import type { ClauseRecord, DatasetVersionRecord, DocumentRecord } from './records';

export interface FramingInput {
  contextId: string;
  documentId: string;
  filename: string;
  mediaType: MediaType;
  content: Uint8Array;
  values: ContextValues | null;
  /** The context's seed examples (JSON lines), or null when it has none. */
  seedsJsonl: string | null;
  /** Seed of the template choices and of the split: same seed, same dataset. */
  seed: number;
  /** Share of distinct questions held out for the audit. */
  heldOutRatio: number;
  maxDocumentBytes?: number;
}

/** A document framed in memory: nothing is stored yet. */
export interface FramedDocument {
  input: FramingInput;
  /** SHA-256 of the original bytes. */
  contentSha256: string;
  tree: DocumentTree;
  statements: NormativeStatement[];
  statementsByKind: Record<NormativeKind, number>;
  generated: Example[];
  seeds: Example[];
  version: DatasetVersion;
}

export interface FramingResult {
  document: DocumentRecord;
  dataset: DatasetVersionRecord;
  clauses: ClauseRecord[];
  statements: number;
  generated: number;
  seeds: number;
  /** False when this exact dataset version was already published (a re-run). */
  created: boolean;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Frames a policy document in memory: validates and parses it into clauses with stable ids,
 * extracts normative statements, generates template Q&A and scenario examples, imports the
 * seeds, splits train/held-out without leakage and builds the content-addressed dataset
 * version. Pure: throws (DocumentValidationError, SeedImportError) before anything is stored.
 */
export function frameDocument(input: FramingInput): FramedDocument {
  const tree = parseDocument(input.content, {
    documentId: input.documentId,
    mediaType: input.mediaType,
    ...(input.maxDocumentBytes ? { maxBytes: input.maxDocumentBytes } : {}),
  });
  const statements = extractStatements(tree);
  const generated = generateExamples(tree, statements, { seed: input.seed, values: input.values });
  const seeds = input.seedsJsonl ? importSeeds(input.seedsJsonl, tree, { values: input.values }) : [];
  // A seed and a template example may share a question: the hand-written seed wins.
  const seedQuestions = new Set(seeds.map((s) => normaliseQuestion(s.question)));
  const examples = [...seeds, ...generated.filter((e) => !seedQuestions.has(normaliseQuestion(e.question)))];
  const split = splitDataset(examples, { heldOutRatio: input.heldOutRatio, seed: input.seed });
  const version = buildDatasetVersion({ contextId: input.contextId, split, clauseIds: tree.clauses.map((c) => c.id) });
  return {
    input,
    contentSha256: sha256(input.content),
    tree,
    statements,
    statementsByKind: countStatementsByKind(statements),
    generated,
    seeds,
    version,
  };
}

function clauseTitle(tree: DocumentTree, sectionId: string | null): string | null {
  if (!sectionId) return null;
  return tree.sections.find((s) => s.id === sectionId)?.title ?? null;
}

function extensionOf(mediaType: MediaType): string {
  return mediaType === 'text/markdown' ? 'md' : 'txt';
}

async function writeSplit(artifacts: ArtifactStore, key: string, examples: readonly Example[], systemPrompt: string) {
  const written = await artifacts.putImmutable(key, toConversationalJsonl(examples, systemPrompt));
  return { uri: written.uri, sha256: written.sha256, examples: examples.length, created: written.created };
}

/**
 * Stores a framed document and publishes its events: the original bytes, the clauses, the
 * immutable dataset version (train and held-out JSON lines under `datasets/<version id>/`), then
 * `policy.document.uploaded`, `policy.document.framed` and `dataset.version.published`. Idempotent:
 * the same document gives the same clause ids, the same dataset hash and no duplicate records.
 */
export async function publishFramedDocument(
  ports: Pick<PipelinePorts, 'bus' | 'repos' | 'artifacts'>,
  tenant: TenantId,
  framed: FramedDocument,
): Promise<FramingResult> {
  const { input, tree, version } = framed;
  const { contextId, documentId } = input;
  const stored = await ports.artifacts.putImmutable(
    `documents/${documentId}/${framed.contentSha256}.${extensionOf(input.mediaType)}`,
    input.content,
  );
  const document: DocumentRecord = {
    id: documentId,
    contextId,
    filename: input.filename,
    mediaType: input.mediaType,
    sha256: framed.contentSha256,
    sizeBytes: input.content.length,
    storageUri: stored.uri,
    title: tree.title,
    clauseCount: tree.clauses.length,
    statementCount: framed.statements.length,
  };
  const clauses: ClauseRecord[] = tree.clauses.map((c) => ({
    id: c.id,
    contextId,
    documentId,
    numbering: c.numbering,
    title: clauseTitle(tree, c.sectionId),
    text: c.text,
  }));

  const train = await writeSplit(ports.artifacts, `datasets/${version.id}/train.jsonl`, version.train, version.systemPrompt);
  const heldOut = await writeSplit(ports.artifacts, `datasets/${version.id}/held-out.jsonl`, version.heldOut, version.systemPrompt);
  const dataset: DatasetVersionRecord = {
    id: version.id,
    contextId,
    sha256: version.sha256,
    documentId,
    documentSha256: framed.contentSha256,
    systemPrompt: version.systemPrompt,
    train: { uri: train.uri, sha256: train.sha256, examples: train.examples },
    heldOut: { uri: heldOut.uri, sha256: heldOut.sha256, examples: heldOut.examples },
    examplesByKind: { ...version.examplesByKind },
    clauseCoverage: version.clauseCoverage ?? 0,
  };
  const created = (await ports.repos.datasets.get(tenant, dataset.id)) === null;

  await ports.repos.documents.upsert(tenant, document);
  await ports.repos.clauses.upsertMany(tenant, clauses);
  await ports.repos.datasets.upsert(tenant, dataset);

  const docKey = `${documentId}-${framed.contentSha256.slice(0, 16)}`;
  await publishEvent(ports.bus, DOCUMENT_UPLOADED_V1, {
    tenant,
    contextId,
    id: `uploaded-${docKey}`,
    subject: documentId,
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: input.filename,
      mediaType: input.mediaType,
      sha256: framed.contentSha256,
      sizeBytes: input.content.length,
      storageUri: stored.uri,
    },
  });
  await publishEvent(ports.bus, DOCUMENT_FRAMED_V1, {
    tenant,
    contextId,
    id: `framed-${docKey}`,
    subject: documentId,
    data: {
      version: 'v1',
      contextId,
      documentId,
      documentSha256: framed.contentSha256,
      clauseCount: tree.clauses.length,
      statementCount: framed.statements.length,
      statementsByKind: framed.statementsByKind,
      clauseIds: tree.clauses.map((c) => c.id),
    },
  });
  await publishEvent(ports.bus, DATASET_VERSION_PUBLISHED_V1, {
    tenant,
    contextId,
    id: `published-${version.id}`,
    subject: version.id,
    data: {
      version: 'v1',
      contextId,
      datasetVersionId: version.id,
      sha256: version.sha256,
      format: 'conversational',
      splits: {
        train: { path: train.uri, sha256: train.sha256, examples: train.examples },
        heldOut: { path: heldOut.uri, sha256: heldOut.sha256, examples: heldOut.examples },
      },
      examplesByKind: { ...version.examplesByKind },
      clauseCoverage: version.clauseCoverage ?? 0,
    },
  });
  return {
    document,
    dataset,
    clauses,
    statements: framed.statements.length,
    generated: framed.generated.length,
    seeds: framed.seeds.length,
    created,
  };
}
