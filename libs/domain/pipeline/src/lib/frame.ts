import { createHash } from 'node:crypto';
import {
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  type DatasetVersionPublishedV1,
  DOCUMENT_UPLOADED_V1,
  buildCloudEvent,
  type CloudEvent,
  type DocumentUploadedV1,
} from '@studio/contracts';
import {
  DocumentValidationError,
  buildDatasetVersion,
  countStatementsByKind,
  extractStatements,
  generateExamples,
  importSeedsWithReport,
  normaliseQuestion,
  parseDocument,
  splitDataset,
  toConversationalJsonl,
  type ContextValues,
  type DatasetVersion,
  type DocumentProblem,
  type DocumentTree,
  type Example,
  type MediaType,
  type NormativeKind,
  type NormativeStatement,
  type SeedImportReport,
} from '@studio/framing';
import { tenantKey, type Repository, type TenantId } from '@studio/ports';
import { buildDataReport, droppedFrom, writeDataReport, type DataReport } from './data-report';
import { publishEvent } from './events';
import type { ArtifactStore, Publishing } from './ports';
import { ClauseRecord, type DatasetVersionRecord, type DocumentRecord } from './records';
import { synthesizeForDocument, type DatasetSynthesis, type SynthesisReport } from './synthesize';

/** A record the use case was asked about does not exist (an HTTP API answers 404). */
export class PipelineNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineNotFoundError';
  }
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function extensionOf(mediaType: MediaType): string {
  return mediaType === 'text/markdown' ? 'md' : 'txt';
}

// ---------------------------------------------------------------- upload --------------------

/**
 * The same document (same bytes) uploaded to the same context of the same tenant gets the
 * same id, so a repeated upload is an idempotent re-delivery downstream, not a new document.
 */
export function documentIdFor(tenant: TenantId, contextId: string, contentSha256: string): string {
  return `doc-${sha256(`${tenant}\n${contextId}\n${contentSha256}`).slice(0, 32)}`;
}

export interface UploadInput {
  tenant: TenantId;
  contextId: string;
  /** The document id; by default a hash of tenant, context and content (documentIdFor). */
  documentId?: string;
  filename: string;
  mediaType: MediaType;
  content: Uint8Array;
  maxBytes: number;
  /** CloudEvents source of the upload event. */
  source: string;
  now?: Date;
}

/** An upload the framer could not frame (too large, empty, binary, not UTF-8, no clause structure). */
export class DocumentRejectedError extends Error {
  constructor(
    readonly problem: DocumentProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentRejectedError';
  }
}

/**
 * Turns an upload into the `policy.document.uploaded` event, after checking that the framer
 * can frame it (DocumentRejectedError otherwise: nothing is published). The bytes travel in the
 * event as a `data:` URI, so the framer reads the original without shared storage.
 */
export function documentUploadedEvent(input: UploadInput): CloudEvent<DocumentUploadedV1> {
  const { tenant, contextId, content, mediaType } = input;
  const contentSha256 = sha256(content);
  const documentId = input.documentId ?? documentIdFor(tenant, contextId, contentSha256);
  try {
    parseDocument(content, { documentId, mediaType, maxBytes: input.maxBytes });
  } catch (error) {
    if (error instanceof DocumentValidationError) throw new DocumentRejectedError(error.problem, error.message);
    throw error;
  }
  return buildCloudEvent<DocumentUploadedV1>({
    topic: DOCUMENT_UPLOADED_V1,
    source: input.source,
    tenantId: tenant,
    contextId,
    subject: documentId,
    ...(input.now ? { time: input.now } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: input.filename,
      mediaType,
      sha256: contentSha256,
      sizeBytes: content.length,
      storageUri: `data:${mediaType};charset=utf-8;base64,${Buffer.from(content).toString('base64')}`,
    },
  });
}

/** "Upload this document to the context": validates it and publishes `policy.document.uploaded`. */
export async function uploadDocument(ports: Pick<Publishing, 'bus'>, input: UploadInput): Promise<CloudEvent<DocumentUploadedV1>> {
  const event = documentUploadedEvent(input);
  await ports.bus.publish(DOCUMENT_UPLOADED_V1, event);
  return event;
}

// ---------------------------------------------------------------- frame an upload -----------

/** The bytes behind an upload's storage URI: a base64 `data:` URI, or an artifact. */
export async function uploadedBytes(storageUri: string, artifacts: Pick<ArtifactStore, 'readBytes'>): Promise<Uint8Array> {
  if (storageUri.startsWith('data:')) {
    const comma = storageUri.indexOf(',');
    if (comma < 0) throw new Error('storage URI is a data: URI without data');
    const meta = storageUri.slice(5, comma);
    const payload = storageUri.slice(comma + 1);
    return meta.split(';').includes('base64')
      ? new Uint8Array(Buffer.from(payload, 'base64'))
      : new TextEncoder().encode(decodeURIComponent(payload));
  }
  return artifacts.readBytes(storageUri);
}

function clauseRecords(tree: DocumentTree, contextId: string, documentId: string): ClauseRecord[] {
  const titles = new Map(tree.sections.map((s) => [s.id, s.title]));
  return tree.clauses.map((c, position) => ({
    id: c.id,
    contextId,
    documentId,
    position,
    numbering: c.numbering,
    title: c.sectionId ? (titles.get(c.sectionId) ?? null) : null,
    text: c.text,
  }));
}

/** Reads the clauses file a `policy.document.framed` event points to (JSON lines of ClauseRecord). */
export async function readClauses(artifacts: Pick<ArtifactStore, 'read'>, clausesUri: string): Promise<ClauseRecord[]> {
  const text = await artifacts.read(clausesUri);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parsed = ClauseRecord.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${clausesUri}:${index + 1}: not a clause record: ${parsed.error.issues[0]?.message ?? ''}`);
      return parsed.data;
    });
}

export interface FrameUploadPorts extends Publishing {
  repos: { documents: Repository<DocumentRecord>; clauses: Repository<ClauseRecord> };
  artifacts: ArtifactStore;
}

export interface FrameUploadResult {
  document: DocumentRecord;
  clauses: ClauseRecord[];
  statementsByKind: Record<NormativeKind, number> | null;
}

/**
 * "Frame the document that was uploaded": keeps its bytes and its clauses (JSON lines) in the
 * artifact store, parses it into clauses with stable ids (document, numbering path, content
 * hash), extracts the normative statements, stores the clauses and the document, and publishes
 * `policy.document.framed` with the clauses' URI, so consumers need not call the framer back.
 * Idempotent: the same bytes framed again (a re-upload, a redelivery) re-state the framed event
 * with the same id and do not rewrite the stored clauses. A document that cannot be framed is
 * recorded as rejected, with the reason, and nothing is published.
 */
export async function frameUploadedDocument(ports: FrameUploadPorts, event: CloudEvent<DocumentUploadedV1>): Promise<FrameUploadResult> {
  const tenant = event.tenantid as TenantId;
  const { documentId, contextId, sha256: declared, mediaType } = event.data;
  const before = await ports.repos.documents.get(tenant, documentId);
  const unchanged = before?.status === 'framed' && before.sha256 === declared && before.clausesUri !== null;
  const bytes = unchanged
    ? await ports.artifacts.readBytes(before.storageUri)
    : await uploadedBytes(event.data.storageUri, ports.artifacts);
  const actual = sha256(bytes);
  if (actual !== declared) throw new Error(`document ${documentId}: its bytes have sha256 ${actual}, the upload event says ${declared}`);

  const received: DocumentRecord = {
    id: documentId,
    contextId,
    filename: event.data.filename,
    mediaType,
    sha256: declared,
    sizeBytes: event.data.sizeBytes,
    storageUri: event.data.storageUri,
    status: 'received',
    title: null,
    clauseCount: null,
    statementCount: null,
    clausesUri: null,
    error: null,
    receivedAt: event.time,
    uploadEventId: event.id,
  };
  let tree: DocumentTree;
  try {
    tree = parseDocument(bytes, { documentId, mediaType });
  } catch (error) {
    if (!(error instanceof DocumentValidationError)) throw error;
    const rejected: DocumentRecord = { ...received, status: 'rejected', error: `${error.problem}: ${error.message}` };
    await ports.repos.documents.upsert(tenant, rejected);
    return { document: rejected, clauses: [], statementsByKind: null };
  }
  const statementsByKind = countStatementsByKind(extractStatements(tree));
  const clauses = clauseRecords(tree, contextId, documentId);
  let document: DocumentRecord;
  if (unchanged) {
    // Clause ids are content-addressed: the stored clauses are already these.
    document = { ...before, filename: received.filename, receivedAt: received.receivedAt, uploadEventId: received.uploadEventId };
  } else {
    const stored = await ports.artifacts.putImmutable(
      tenantKey(tenant, `documents/${documentId}/${declared}.${extensionOf(mediaType)}`),
      bytes,
    );
    const clausesFile = await ports.artifacts.putImmutable(
      tenantKey(tenant, `documents/${documentId}/${declared}.clauses.jsonl`),
      clauses.map((c) => JSON.stringify(c)).join('\n') + '\n',
    );
    await ports.repos.clauses.upsertMany(tenant, clauses);
    const statementCount = Object.values(statementsByKind).reduce((a, b) => a + b, 0);
    document = {
      ...received,
      storageUri: stored.uri,
      status: 'framed',
      title: tree.title,
      clauseCount: clauses.length,
      statementCount,
      clausesUri: clausesFile.uri,
    };
  }
  await ports.repos.documents.upsert(tenant, document);
  await publishEvent(ports.bus, DOCUMENT_FRAMED_V1, {
    tenant,
    contextId,
    subject: documentId,
    id: `framed-${documentId}-${declared.slice(0, 16)}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      documentSha256: declared,
      clauseCount: clauses.length,
      statementCount: document.statementCount ?? 0,
      statementsByKind,
      clauseIds: clauses.map((c) => c.id),
      clausesUri: document.clausesUri as string,
    },
  });
  return { document, clauses, statementsByKind };
}

// ---------------------------------------------------------------- dataset version -----------

export interface FramingInput {
  contextId: string;
  documentId: string;
  mediaType: MediaType;
  content: Uint8Array;
  values: ContextValues | null;
  /** The context's seed examples (JSON lines or an InstructLab qna.yaml), or null when it has none. */
  seedsJsonl: string | null;
  /** Seed of the template choices and of the split: same seed, same dataset. */
  seed: number;
  /** Share of distinct questions held out for the audit. */
  heldOutRatio: number;
  maxDocumentBytes?: number;
  /** Examples synthesised by a teacher model (synthesize.ts), joined to the seeds and templates. */
  synthetic?: readonly Example[];
}

/** A document framed in memory: nothing is stored yet. */
export interface FramedDocument {
  tree: DocumentTree;
  statements: NormativeStatement[];
  statementsByKind: Record<NormativeKind, number>;
  generated: Example[];
  seeds: Example[];
  /** Seeds read, kept and dropped by reason (an InstructLab qna.yaml drops pairs that match no clause); null without seeds. */
  seedReport: SeedImportReport | null;
  version: DatasetVersion;
}

/**
 * Frames a policy document in memory: parses it into clauses with stable ids, extracts
 * normative statements, generates template Q&A and scenario examples, imports the seeds, splits
 * train/held-out without leakage and builds the content-addressed dataset version. Pure: throws
 * (DocumentValidationError, SeedImportError) before anything is stored.
 */
export function frameDocument(input: FramingInput): FramedDocument {
  const tree = parseDocument(input.content, {
    documentId: input.documentId,
    mediaType: input.mediaType,
    ...(input.maxDocumentBytes ? { maxBytes: input.maxDocumentBytes } : {}),
  });
  const statements = extractStatements(tree);
  const generated = generateExamples(tree, statements, { seed: input.seed, values: input.values });
  const imported = input.seedsJsonl ? importSeedsWithReport(input.seedsJsonl, tree, { values: input.values }) : null;
  const seeds = imported?.examples ?? [];
  // A seed and a template example may share a question: the hand-written seed wins.
  const seedQuestions = new Set(seeds.map((s) => normaliseQuestion(s.question)));
  const examples = [
    ...seeds,
    ...[...generated, ...(input.synthetic ?? [])].filter((e) => !seedQuestions.has(normaliseQuestion(e.question))),
  ];
  const split = splitDataset(examples, { heldOutRatio: input.heldOutRatio, seed: input.seed });
  const version = buildDatasetVersion({ contextId: input.contextId, split, clauseIds: tree.clauses.map((c) => c.id) });
  return {
    tree,
    statements,
    statementsByKind: countStatementsByKind(statements),
    generated,
    seeds,
    seedReport: imported?.report ?? null,
    version,
  };
}

export interface DatasetPorts extends Publishing {
  repos: { documents: Pick<Repository<DocumentRecord>, 'get' | 'find'>; datasets: Repository<DatasetVersionRecord> };
  artifacts: ArtifactStore;
}

export interface GenerateDatasetInput {
  tenant: TenantId;
  contextId: string;
  /** The framed document to generate from; by default the context's most recently received one. */
  documentId?: string | undefined;
  values: ContextValues | null;
  seedsJsonl: string | null;
  seed: number;
  heldOutRatio: number;
  now?: Date;
  /** Synthesise more examples with a teacher model before the version is built; none when absent. */
  synthesis?: DatasetSynthesis | null;
}

export interface GenerateDatasetResult {
  dataset: DatasetVersionRecord;
  framed: FramedDocument;
  /** False when this exact dataset version was already published (a re-run). */
  created: boolean;
  /** What teacher synthesis generated, kept and dropped; null without a teacher. */
  synthesis: SynthesisReport | null;
  /** The version's data report and where it is stored (beside the splits). */
  report: { data: DataReport; jsonUri: string; markdownUri: string };
}

/**
 * "Generate a dataset version for this context": frames the document with the context's values
 * and seeds, writes the two splits as immutable JSON lines under `datasets/<version id>/`,
 * records the version and publishes `dataset.version.published`. Content addressed: the same
 * document, values, seeds and seed give the same version, written once.
 */
export async function generateDatasetVersion(ports: DatasetPorts, input: GenerateDatasetInput): Promise<GenerateDatasetResult> {
  const { tenant, contextId } = input;
  const document = input.documentId
    ? await ports.repos.documents.get(tenant, input.documentId)
    : ((await ports.repos.documents.find(tenant, { contextId, status: 'framed' }, { sort: { receivedAt: -1 }, limit: 1 }))[0] ?? null);
  if (!document || document.contextId !== contextId) {
    throw new PipelineNotFoundError(
      input.documentId
        ? `document "${input.documentId}" not found in context "${contextId}"`
        : `context "${contextId}" has no framed document yet: upload one first`,
    );
  }
  if (document.status !== 'framed') {
    throw new PipelineNotFoundError(
      `document "${document.id}" is ${document.status}${document.error ? ` (${document.error})` : ''}, not framed`,
    );
  }
  const framingInput: FramingInput = {
    contextId,
    documentId: document.id,
    mediaType: document.mediaType,
    content: await ports.artifacts.readBytes(document.storageUri),
    values: input.values,
    seedsJsonl: input.seedsJsonl,
    seed: input.seed,
    heldOutRatio: input.heldOutRatio,
  };
  let framed = frameDocument(framingInput);
  const synthesis = input.synthesis
    ? await synthesizeForDocument(ports.artifacts, tenant, document, framed, input.values, input.synthesis)
    : null;
  if (synthesis) framed = frameDocument({ ...framingInput, synthetic: synthesis.examples });
  const { version } = framed;
  const existing = await ports.repos.datasets.get(tenant, version.id);
  const train = await ports.artifacts.putImmutable(
    tenantKey(tenant, `datasets/${version.id}/train.jsonl`),
    toConversationalJsonl(version.train, version.systemPrompt),
  );
  const heldOut = await ports.artifacts.putImmutable(
    tenantKey(tenant, `datasets/${version.id}/held-out.jsonl`),
    toConversationalJsonl(version.heldOut, version.systemPrompt),
  );
  const dataset: DatasetVersionRecord = {
    id: version.id,
    contextId,
    sha256: version.sha256,
    documentId: document.id,
    documentSha256: document.sha256,
    systemPrompt: version.systemPrompt,
    train: { uri: train.uri, sha256: train.sha256, examples: version.train.length },
    heldOut: { uri: heldOut.uri, sha256: heldOut.sha256, examples: version.heldOut.length },
    examplesByKind: { ...version.examplesByKind },
    clauseCoverage: version.clauseCoverage ?? 0,
    createdAt: existing?.createdAt ?? (input.now ?? new Date()).toISOString(),
  };
  await ports.repos.datasets.upsert(tenant, dataset);
  await publishEvent(ports.bus, DATASET_VERSION_PUBLISHED_V1, {
    tenant,
    contextId,
    subject: version.id,
    id: `published-${version.id}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data: {
      version: 'v1',
      contextId,
      datasetVersionId: version.id,
      sha256: version.sha256,
      documentId: document.id,
      documentSha256: document.sha256,
      systemPrompt: version.systemPrompt,
      format: 'conversational',
      splits: {
        train: { path: train.uri, sha256: train.sha256, examples: dataset.train.examples },
        heldOut: { path: heldOut.uri, sha256: heldOut.sha256, examples: dataset.heldOut.examples },
      },
      examplesByKind: dataset.examplesByKind,
      clauseCoverage: dataset.clauseCoverage,
    },
  });
  const data = buildDataReport({
    version,
    clauses: framed.tree.clauses,
    values: input.values,
    droppedByReason: {
      ...droppedFrom('seed', framed.seedReport?.dropped ?? {}),
      ...droppedFrom('teacher', synthesis?.report.droppedByReason ?? {}),
    },
    wellFormednessRate: null,
    synthesis: synthesis?.report ?? null,
    seed: input.seed,
  });
  const report = { data, ...(await writeDataReport(ports.artifacts, tenant, data)) };
  return { dataset, framed, created: existing === null, synthesis: synthesis?.report ?? null, report };
}

/** The dataset version a `dataset.version.published` event states (what a consumer such as the instructor keeps). */
export function datasetVersionOf(event: CloudEvent<DatasetVersionPublishedV1>): DatasetVersionRecord {
  const d = event.data;
  return {
    id: d.datasetVersionId,
    contextId: d.contextId,
    sha256: d.sha256,
    documentId: d.documentId,
    documentSha256: d.documentSha256,
    systemPrompt: d.systemPrompt,
    train: { uri: d.splits.train.path, sha256: d.splits.train.sha256, examples: d.splits.train.examples },
    heldOut: { uri: d.splits.heldOut.path, sha256: d.splits.heldOut.sha256, examples: d.splits.heldOut.examples },
    examplesByKind: d.examplesByKind,
    clauseCoverage: d.clauseCoverage,
    createdAt: event.time,
  };
}
