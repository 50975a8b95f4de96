import { createHash } from 'node:crypto';
import {
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  type DatasetDocument,
  type DatasetReview,
  type DocumentRevisedV1,
  type IncrementalGeneration,
  type DatasetVersionPublishedV1,
  DOCUMENT_UPLOADED_V1,
  buildCloudEvent,
  Concept,
  Relation,
  type CloudEvent,
  type DocumentUploadedV1,
} from '@studio/contracts';
import {
  DocumentValidationError,
  buildDatasetVersion,
  convertDocument,
  countStatementsByKind,
  extensionForMediaType,
  extractStatements,
  generateExamplesWithReport,
  importSeedsWithReport,
  normaliseQuestion,
  parseDocument,
  splitDataset,
  statementCoverage,
  canonicalJson,
  toConversationalJsonl,
  type ContextValues,
  type ConvertedDocument,
  type DatasetVersion,
  type DocumentProblem,
  DocumentTree,
  type Example,
  type GenerationReport,
  type MediaType,
  type NormativeKind,
  NormativeStatement,
  type SeedImportReport,
  type TextMediaType,
} from '@studio/framing';
import { buildOntology, CoverageTracker, type ConceptCoverage, type ExtractedGraph, type OntologySource } from '@studio/ontology';
import { tenantKey, type Repository, type TenantId } from '@studio/ports';
import { z } from 'zod';
import {
  datasetExamplesFile,
  mergeDocumentTrees,
  mergeIncremental,
  readClauseFile,
  publishRevision,
  readDatasetExamples,
  reviseDocument,
  type Revision,
} from './document-versions';
import { buildDataReport, droppedFrom, writeDataReport, type DataReport } from './data-report';
import { PipelineNotFoundError } from './errors';
import { publishEvent } from './events';
import type { ArtifactStore, Publishing } from './ports';
import {
  documentVersionId,
  type ClauseRecord,
  type ConceptCoverageRecord,
  type DatasetVersionRecord,
  type DocumentRecord,
  type DocumentVersionRecord,
} from './records';
import { synthesizeForDocument, type DatasetSynthesis, type SynthesisReport } from './synthesize';

export { PipelineNotFoundError };

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------- upload --------------------

/**
 * A document is named by its file name within the context: uploading the same file name again
 * to the same context of the same tenant is a new version of the same document (the same bytes
 * again are an idempotent re-delivery), another file name is another document of the context.
 */
export function documentIdFor(tenant: TenantId, contextId: string, filename: string): string {
  return `doc-${sha256(`${tenant}\n${contextId}\n${filename}`).slice(0, 32)}`;
}

export interface UploadInput {
  tenant: TenantId;
  contextId: string;
  /** The document id (a new upload under it is a new version); by default a hash of tenant, context and file name (documentIdFor). */
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
 * Converts an upload of HTML, PDF or DOCX to the Markdown the framer frames (Markdown and plain
 * text pass through): DocumentRejectedError naming the problem (malformed or encrypted PDF, zip
 * bomb, ...) when it cannot be read.
 */
export async function convertUpload(input: Pick<UploadInput, 'content' | 'mediaType' | 'maxBytes'>): Promise<ConvertedDocument> {
  try {
    return await convertDocument(input.content, input.mediaType, { maxBytes: input.maxBytes });
  } catch (error) {
    if (error instanceof DocumentValidationError) throw new DocumentRejectedError(error.problem, error.message);
    throw error;
  }
}

/**
 * Turns an upload into the `policy.document.uploaded` event, after checking that the framer
 * can frame it (DocumentRejectedError otherwise: nothing is published). The original bytes travel
 * in the event as a `data:` URI, so the framer reads them without shared storage. An HTML, PDF or
 * DOCX upload is checked through its conversion (`converted`, from convertUpload).
 */
export function documentUploadedEvent(input: UploadInput & { converted?: ConvertedDocument }): CloudEvent<DocumentUploadedV1> {
  const { tenant, contextId, content, mediaType } = input;
  const contentSha256 = sha256(content);
  const documentId = input.documentId ?? documentIdFor(tenant, contextId, input.filename);
  const framed = input.converted ?? (mediaType === 'text/markdown' || mediaType === 'text/plain' ? { content, mediaType } : null);
  if (framed === null) throw new Error(`a ${mediaType} upload is converted (convertUpload) before its event is made`);
  try {
    parseDocument(framed.content, { documentId, mediaType: framed.mediaType, maxBytes: input.maxBytes });
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
      storageUri: `data:${mediaType}${mediaType.startsWith('text/') ? ';charset=utf-8' : ''};base64,${Buffer.from(content).toString('base64')}`,
    },
  });
}

/** "Upload this document to the context": validates it and publishes `policy.document.uploaded`. */
export async function uploadDocument(ports: Pick<Publishing, 'bus'>, input: UploadInput): Promise<CloudEvent<DocumentUploadedV1>> {
  const event = documentUploadedEvent({ ...input, converted: await convertUpload(input) });
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

/** What the framing artifact of a framed document version holds: its parsed tree and its normative statements. */
export const FramingArtifact = z.object({ tree: DocumentTree, statements: z.array(NormativeStatement) });
export type FramingArtifact = z.infer<typeof FramingArtifact>;

/** The framing artifact's JSON (the framed event's `framingUri` points to it). */
export function framingArtifact(tree: DocumentTree, statements: readonly NormativeStatement[]): string {
  return JSON.stringify({ tree, statements });
}

/** Reads the framing artifact a `policy.document.framed` event's `framingUri` points to; an error naming the file and the problem when it is not one. */
export async function readFramingArtifact(artifacts: Pick<ArtifactStore, 'read'>, framingUri: string): Promise<FramingArtifact> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await artifacts.read(framingUri));
  } catch (error) {
    throw new Error(`framing artifact ${framingUri} is not JSON: ${(error as Error).message}`);
  }
  const result = FramingArtifact.safeParse(parsed);
  if (!result.success)
    throw new Error(
      `framing artifact ${framingUri} is not { tree, statements }: ${result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  return result.data;
}

/** Reads the clauses file a `policy.document.framed` event points to (JSON lines of ClauseRecord). */
export async function readClauses(artifacts: Pick<ArtifactStore, 'read'>, clausesUri: string): Promise<ClauseRecord[]> {
  return readClauseFile(artifacts, clausesUri);
}

export interface FrameUploadPorts extends Publishing {
  repos: {
    documents: Repository<DocumentRecord>;
    documentVersions: Repository<DocumentVersionRecord>;
    clauses: Repository<ClauseRecord>;
    /** The context's dataset versions, so that a revision names those it makes stale. */
    datasets?: Pick<Repository<DatasetVersionRecord>, 'find'>;
  };
  artifacts: ArtifactStore;
}

export interface FrameUploadResult {
  document: DocumentRecord;
  clauses: ClauseRecord[];
  statementsByKind: Record<NormativeKind, number> | null;
  /** The version this upload is (null for a redelivery of an upload a later version replaced). */
  version: DocumentVersionRecord | null;
  /** How the new version differs from the previous framed one; null for a first version, a re-upload or a rejection. */
  revision: Revision | null;
  /** The `policy.document.revised` data published for the revision (stale clauses and dataset versions); null without one. */
  revised: DocumentRevisedV1 | null;
}

/** The document's versions so far, newest first; a document framed before versions existed gets its version 1 recorded. */
async function versionsOf(ports: FrameUploadPorts, tenant: TenantId, before: DocumentRecord | null): Promise<DocumentVersionRecord[]> {
  if (!before) return [];
  const versions = await ports.repos.documentVersions.find(
    tenant,
    { contextId: before.contextId, documentId: before.id },
    { sort: { version: -1 }, limit: 1000 },
  );
  if (versions.length > 0 || before.status !== 'framed') return versions;
  const legacy: DocumentVersionRecord = { ...versionFields(before, 1, null), changes: null };
  await ports.repos.documentVersions.upsert(tenant, legacy);
  await ports.repos.documents.upsert(tenant, { ...before, version: 1 });
  return [legacy];
}

function versionFields(d: DocumentRecord, version: number, previousVersion: number | null): Omit<DocumentVersionRecord, 'changes'> {
  return {
    id: documentVersionId(d.id, version),
    contextId: d.contextId,
    documentId: d.id,
    version,
    filename: d.filename,
    mediaType: d.mediaType,
    sha256: d.sha256,
    sizeBytes: d.sizeBytes,
    storageUri: d.storageUri,
    status: d.status === 'framed' ? 'framed' : 'rejected',
    title: d.title,
    clauseCount: d.clauseCount,
    statementCount: d.statementCount,
    clausesUri: d.clausesUri,
    error: d.error,
    previousVersion,
    receivedAt: d.receivedAt,
    uploadEventId: d.uploadEventId,
  };
}

/**
 * "Frame the document that was uploaded": keeps its bytes and its clauses (JSON lines) in the
 * artifact store, parses it into clauses with stable ids (document, numbering path, content
 * hash), extracts the normative statements, stores the clauses and the document, and publishes
 * `policy.document.framed` with the clauses' URI, so consumers need not call the framer back.
 *
 * Versions: an upload under the id of a framed document with other bytes is its next version.
 * The new version's clauses replace the old version's in the context (clauses the new version
 * keeps keep their ids), the clause-level diff is recorded on the version, and
 * `policy.document.revised` names the changed clauses and the dataset versions they make stale.
 *
 * Idempotent: the same bytes framed again (a re-upload, a redelivery) re-state the framed event
 * with the same id and do not rewrite the stored clauses; a redelivered upload that a later
 * version has replaced changes nothing. A document that cannot be framed is recorded as a
 * rejected version, with the reason, and nothing is published; an earlier framed version stays current.
 */
export async function frameUploadedDocument(ports: FrameUploadPorts, event: CloudEvent<DocumentUploadedV1>): Promise<FrameUploadResult> {
  const tenant = event.tenantid as TenantId;
  const { documentId, contextId, sha256: declared, mediaType } = event.data;
  const before = await ports.repos.documents.get(tenant, documentId);
  if (before && before.contextId !== contextId)
    throw new Error(
      `document "${documentId}" belongs to context "${before.contextId}": an upload to context "${contextId}" needs another document id (its clause ids carry it)`,
    );
  const versions = await versionsOf(ports, tenant, before);
  const current = before?.status === 'framed' ? (versions.find((v) => v.version === (before.version ?? 1)) ?? null) : null;
  const unchanged = before?.status === 'framed' && before.sha256 === declared && before.clausesUri !== null;
  const latest = versions[0]?.version ?? 0;
  const replayed = versions.find((v) => v.uploadEventId === event.id) ?? null;
  if (!unchanged && replayed && replayed.version < latest && before) {
    // A redelivery of an upload that a later one has replaced: the later one stands.
    const clauses = before.clausesUri ? await readClauses(ports.artifacts, before.clausesUri) : [];
    return { document: before, clauses, statementsByKind: null, version: null, revision: null, revised: null };
  }
  const bytes = unchanged
    ? await ports.artifacts.readBytes(before.storageUri)
    : await uploadedBytes(event.data.storageUri, ports.artifacts);
  const actual = sha256(bytes);
  if (actual !== declared) throw new Error(`document ${documentId}: its bytes have sha256 ${actual}, the upload event says ${declared}`);
  // A redelivery of the latest upload that did not get as far as the document record completes it under its number.
  const nextVersion = replayed?.version ?? latest + 1;

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
    version: null,
  };
  let tree: DocumentTree;
  try {
    const source = await convertDocument(bytes, mediaType);
    tree = parseDocument(source.content, { documentId, mediaType: source.mediaType });
  } catch (error) {
    if (!(error instanceof DocumentValidationError)) throw error;
    const rejected: DocumentRecord = { ...received, status: 'rejected', error: `${error.problem}: ${error.message}` };
    const version: DocumentVersionRecord = {
      ...versionFields(rejected, nextVersion, current?.version ?? null),
      storageUri: null,
      changes: null,
    };
    await ports.repos.documentVersions.upsert(tenant, version);
    if (before?.status === 'framed')
      return { document: before, clauses: [], statementsByKind: null, version, revision: null, revised: null };
    await ports.repos.documents.upsert(tenant, rejected);
    return { document: rejected, clauses: [], statementsByKind: null, version, revision: null, revised: null };
  }
  const statements = extractStatements(tree);
  const statementsByKind = countStatementsByKind(statements);
  const clauses = clauseRecords(tree, contextId, documentId);
  // The parsed tree and its statements, for consumers that build on them (the ontology): rewritten
  // in place under the same key, so the same bytes framed again (even by a newer framer) name the same file.
  const framing = await ports.artifacts.put(
    tenantKey(tenant, `documents/${documentId}/${declared}.framing.json`),
    framingArtifact(tree, statements),
  );
  let document: DocumentRecord;
  let version: DocumentVersionRecord;
  let revision: Revision | null = null;
  let revisedEvent: DocumentRevisedV1 | null = null;
  if (unchanged) {
    // Clause ids are content-addressed: the stored clauses are already these.
    document = { ...before, filename: received.filename, receivedAt: received.receivedAt, uploadEventId: received.uploadEventId };
    version = current ?? { ...versionFields(document, before.version ?? 1, null), changes: null };
    const previous = current?.previousVersion ? versions.find((v) => v.version === current.previousVersion) : undefined;
    if (current && previous?.clausesUri && current.uploadEventId === event.id) {
      // A redelivery of the upload that made this version: the revision is stated again (same event id).
      const revised = await reviseDocument(ports, { tenant, previous, current, clauses });
      revision = revised.revision;
      revisedEvent = revised.event;
    }
  } else {
    const stored = await ports.artifacts.putImmutable(
      tenantKey(tenant, `documents/${documentId}/${declared}.${extensionForMediaType(mediaType)}`),
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
      version: nextVersion,
    };
    version = { ...versionFields(document, nextVersion, current?.version ?? null), changes: null };
    if (current) {
      // Diffs against the old version's clauses file and removes its clauses from the context.
      const revised = await reviseDocument(ports, { tenant, previous: current, current: version, clauses });
      revision = revised.revision;
      revisedEvent = revised.event;
      version = { ...version, changes: revision.diff.summary };
    }
    await ports.repos.documentVersions.upsert(tenant, version);
  }
  await ports.repos.documents.upsert(tenant, document);
  await publishEvent(ports.bus, DOCUMENT_FRAMED_V1, {
    tenant,
    contextId,
    subject: documentId,
    id: `framed-${documentId}-v${version.version}-${declared.slice(0, 16)}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      documentSha256: declared,
      documentVersion: version.version,
      clauseCount: clauses.length,
      statementCount: document.statementCount ?? 0,
      statementsByKind,
      clauseIds: clauses.map((c) => c.id),
      clausesUri: document.clausesUri as string,
      framingUri: framing.uri,
    },
  });
  if (revisedEvent) await publishRevision(ports, tenant, revisedEvent);
  return { document, clauses, statementsByKind, version, revision, revised: revisedEvent };
}

// ---------------------------------------------------------------- dataset version -----------

export interface FramingInput {
  contextId: string;
  documentId: string;
  /** How to parse `content`: an HTML, PDF or DOCX document is converted first (convertDocument). */
  mediaType: TextMediaType;
  content: Uint8Array | string;
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
  /**
   * The concepts and relations of the documents (buildOntology of @studio/ontology), which generation
   * steers by when the values file sets a concept coverage target; built from the tree when absent and needed.
   */
  ontology?: ExtractedGraph | null;
}

/** A document framed in memory: nothing is stored yet. */
export interface FramedDocument {
  tree: DocumentTree;
  statements: NormativeStatement[];
  statementsByKind: Record<NormativeKind, number>;
  generated: Example[];
  /** What template generation drafted, kept and dropped by reason (the well-formedness gate). */
  generation: GenerationReport;
  seeds: Example[];
  /** The graph generation steered by; null when the values file sets no concept coverage target and none was given. */
  ontology: ExtractedGraph | null;
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
  return frameTree(tree, input);
}

/** What framing needs besides the document: the context, its values and seeds, the seed and the split. */
export type TreeFramingInput = Pick<
  FramingInput,
  'contextId' | 'values' | 'seedsJsonl' | 'seed' | 'heldOutRatio' | 'synthetic' | 'ontology'
>;

/** The values file's concept coverage target (its `min_concept_coverage` gate); null when it sets none. */
export function conceptCoverageTarget(values: ContextValues | null): number | null {
  return values?.audit.min_concept_coverage ?? null;
}

/** The graph of one parsed tree (a document's, or a context's documents merged), as framing sees it. */
export function ontologyOfTree(tree: DocumentTree, statements: readonly NormativeStatement[] = extractStatements(tree)): ExtractedGraph {
  return buildOntology([{ documentId: tree.documentId, sha256: tree.sha256, version: 1, tree, statements }]);
}

/**
 * As `frameDocument`, for a parsed tree (one document's, or a context's documents merged: mergeDocumentTrees).
 * With a concept coverage target in the values file, template generation is steered by the ontology
 * (given, or built from the tree): the seeds and the teacher's examples count first, then, while the
 * target is not met, statements whose concepts no example exercises get more templates.
 */
export function frameTree(tree: DocumentTree, input: TreeFramingInput): FramedDocument {
  const statements = extractStatements(tree);
  const imported = input.seedsJsonl ? importSeedsWithReport(input.seedsJsonl, tree, { values: input.values }) : null;
  const seeds = imported?.examples ?? [];
  const target = conceptCoverageTarget(input.values);
  const ontology = input.ontology ?? (target === null ? null : ontologyOfTree(tree, statements));
  let steering: CoverageTracker | null = null;
  if (target !== null && ontology !== null && ontology.concepts.length > 0) {
    steering = new CoverageTracker(ontology, target);
    steering.add([...seeds, ...(input.synthetic ?? [])]);
  }
  const { examples: generated, report: generation } = generateExamplesWithReport(tree, statements, {
    seed: input.seed,
    values: input.values,
    steering,
  });
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
    generation,
    seeds,
    ontology,
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
  /** Generate from this framed document only; by default from every framed document of the context (their current versions). */
  documentId?: string | undefined;
  values: ContextValues | null;
  seedsJsonl: string | null;
  seed: number;
  heldOutRatio: number;
  /** Generate every example anew even when a previous version with the same settings exists (default false). */
  full?: boolean;
  /** Synthesise more examples with a teacher model before the version is built; none when absent. */
  synthesis?: DatasetSynthesis | null;
  now?: Date;
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

/** The framed documents a dataset version is generated from: one named document, or all of the context's. */
async function framedDocumentsOf(ports: DatasetPorts, input: GenerateDatasetInput): Promise<DocumentRecord[]> {
  const { tenant, contextId } = input;
  if (input.documentId) {
    const document = await ports.repos.documents.get(tenant, input.documentId);
    if (!document || document.contextId !== contextId)
      throw new PipelineNotFoundError(`document "${input.documentId}" not found in context "${contextId}"`);
    if (document.status !== 'framed')
      throw new PipelineNotFoundError(
        `document "${document.id}" is ${document.status}${document.error ? ` (${document.error})` : ''}, not framed`,
      );
    return [document];
  }
  const documents = await ports.repos.documents.find(tenant, { contextId, status: 'framed' }, { sort: { receivedAt: -1 }, limit: 1000 });
  if (documents.length === 0) throw new PipelineNotFoundError(`context "${contextId}" has no framed document yet: upload one first`);
  return documents;
}

/**
 * "Generate a dataset version for this context": frames the current versions of the context's
 * documents (their clauses together) with the context's values and seeds, writes the two
 * splits as immutable JSON lines under `datasets/<version id>/` (and every example in full, for
 * the next version), records the version and publishes `dataset.version.published`.
 *
 * Incremental: when the context already has a version generated with the same values, seeds,
 * seed and ratio, its examples on clauses that are still current are kept verbatim and only
 * the examples of added, changed and renumbered clauses are generated (mergeIncremental); the
 * record counts kept / regenerated / dropped. Content addressed: the same clauses, values,
 * seeds and seed give the same version, written once.
 */
export async function generateDatasetVersion(ports: DatasetPorts, input: GenerateDatasetInput): Promise<GenerateDatasetResult> {
  const { tenant, contextId } = input;
  const documents = await framedDocumentsOf(ports, input);
  const trees: DocumentTree[] = [];
  const sources: OntologySource[] = [];
  // Document-id order: the same documents give the same dataset whatever order they were uploaded in.
  for (const document of [...documents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const source = await convertDocument(await ports.artifacts.readBytes(document.storageUri), document.mediaType);
    const parsed = parseDocument(source.content, { documentId: document.id, mediaType: source.mediaType });
    trees.push(parsed);
    sources.push({
      documentId: document.id,
      sha256: document.sha256,
      version: document.version ?? 1,
      tree: parsed,
      statements: extractStatements(parsed),
    });
  }
  const tree = mergeDocumentTrees(contextId, trees);
  // The documents' concepts: what the version's coverage is measured against, and what generation steers by.
  const ontology = buildOntology(sources);
  const target = conceptCoverageTarget(input.values);
  const framingInput: TreeFramingInput = {
    contextId,
    values: input.values,
    seedsJsonl: input.seedsJsonl,
    seed: input.seed,
    heldOutRatio: input.heldOutRatio,
    ontology,
  };
  let full = frameTree(tree, framingInput);
  // The teacher's checkpoint belongs to this set of document versions: a new version starts afresh.
  const sourcesKey = {
    id: documents.length === 1 ? (documents[0] as DocumentRecord).id : `context-${contextId}`,
    sha256: sha256(
      [...documents]
        .map((d) => `${d.id}:${d.sha256}`)
        .sort()
        .join('\n'),
    ),
  };
  // With a coverage target, a teacher that may prompt about only some clauses prefers those whose concepts are not covered yet.
  let teacherSteering: CoverageTracker | null = null;
  if (input.synthesis && target !== null && ontology.concepts.length > 0) {
    teacherSteering = new CoverageTracker(ontology, target);
    teacherSteering.add([...full.seeds, ...full.generated]);
  }
  const synthesis = input.synthesis
    ? await synthesizeForDocument(ports.artifacts, tenant, sourcesKey, full, input.values, input.synthesis, teacherSteering)
    : null;
  if (synthesis) full = frameTree(tree, { ...framingInput, synthetic: synthesis.examples });
  const clauseIds = tree.clauses.map((c) => c.id);
  const settingsSha256 = sha256(
    canonicalJson({
      values: input.values,
      seeds: input.seedsJsonl,
      seed: input.seed,
      heldOutRatio: input.heldOutRatio,
      systemPrompt: full.version.systemPrompt,
      // A version made with a teacher is another dataset than one made without (or with another teacher).
      ...(input.synthesis ? { teacher: { model: input.synthesis.teacher.model, settings: input.synthesis.settings } } : {}),
    }),
  );
  const previous = input.full
    ? null
    : ((await ports.repos.datasets.find(tenant, { contextId, settingsSha256 }, { sort: { createdAt: -1 }, limit: 1 }))[0] ?? null);
  let version = full.version;
  let incremental: IncrementalGeneration | null = null;
  if (previous?.examplesUri) {
    const merged = mergeIncremental({
      previous: await readDatasetExamples(ports.artifacts, previous.examplesUri),
      candidates: [...full.version.train, ...full.version.heldOut],
      clauseIds,
      heldOutRatio: input.heldOutRatio,
      seed: input.seed,
    });
    version = buildDatasetVersion({ contextId, split: merged.split, clauseIds });
    incremental = version.id === previous.id ? previous.incremental : { fromDatasetVersionId: previous.id, ...merged.counts };
  }
  const framed: FramedDocument = { ...full, version };
  // The most recently received document stands for the version where one document is named.
  const primary = documents[0] as DocumentRecord;
  const datasetDocuments: DatasetDocument[] = [...documents]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((d) => ({ documentId: d.id, version: d.version, sha256: d.sha256 }));
  const { dataset, created } = await publishDatasetVersion(ports, {
    tenant,
    version,
    clauseIds,
    documents: datasetDocuments,
    ontology,
    primary: { documentId: primary.id, documentSha256: primary.sha256 },
    settingsSha256,
    incremental,
    review: null,
    now: input.now ?? new Date(),
  });
  const data = buildDataReport({
    version,
    clauses: tree.clauses,
    values: input.values,
    droppedByReason: {
      ...droppedFrom('generation', framed.generation.dropped),
      ...droppedFrom('seed', framed.seedReport?.dropped ?? {}),
      ...droppedFrom('teacher', synthesis?.report.droppedByReason ?? {}),
    },
    statementCoverage: statementCoverage(tree),
    wellFormednessRate: framed.generation.wellFormedRate,
    synthesis: synthesis?.report ?? null,
    seed: input.seed,
    ontology,
  });
  const report = { data, ...(await writeDataReport(ports.artifacts, tenant, data)) };
  return { dataset, framed, created, synthesis: synthesis?.report ?? null, report };
}

export interface PublishDatasetVersionInput {
  tenant: TenantId;
  /** The built, content-addressed version (buildDatasetVersion). */
  version: DatasetVersion;
  /** Every clause id of the documents it was built from (kept with the examples, for the next version). */
  clauseIds: readonly string[];
  /** The documents (their versions) the version's clauses come from. */
  documents: DatasetDocument[];
  /** The document that stands for the version where one is named. */
  primary: { documentId: string; documentSha256: string };
  settingsSha256: string | null;
  incremental: IncrementalGeneration | null;
  /** The review that made this version from its parent; null for a generated one. */
  review: DatasetReview | null;
  /**
   * The concepts and relations of the documents the version was built from: its concept coverage is
   * measured against them (stored on the record, and in full beside the splits, with the graph); null
   * or absent: not measured.
   */
  ontology?: ExtractedGraph | null;
  now: Date;
}

/** The keys of a dataset version's concept coverage (examples per concept included) and of the graph it was measured against. */
export function conceptCoverageKeys(datasetVersionId: string): { coverage: string; ontology: string } {
  return { coverage: `datasets/${datasetVersionId}/concept-coverage.json`, ontology: `datasets/${datasetVersionId}/ontology.json` };
}

const StoredGraph = z.object({ concepts: z.array(Concept), relations: z.array(Relation) });

/** The graph a dataset version's concept coverage was measured against (stored beside its splits); null for a version without one. */
export async function readDatasetOntology(
  artifacts: Pick<ArtifactStore, 'read' | 'exists' | 'localPath'>,
  tenant: TenantId,
  datasetVersionId: string,
): Promise<ExtractedGraph | null> {
  const path = artifacts.localPath(tenantKey(tenant, conceptCoverageKeys(datasetVersionId).ontology));
  if (!(await artifacts.exists(path))) return null;
  const parsed = StoredGraph.safeParse(JSON.parse(await artifacts.read(path)));
  if (!parsed.success) throw new Error(`${path}: not a stored concept graph: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** The record's part of a coverage (without the examples per concept). */
export function conceptCoverageRecord(coverage: ConceptCoverage): ConceptCoverageRecord {
  return {
    concepts: coverage.concepts,
    pairs: coverage.pairs,
    uncoveredConcepts: coverage.uncoveredConcepts,
    uncoveredPairs: coverage.uncoveredPairs,
  };
}

/** The concept coverage of a dataset version's examples; null on a graph without concepts (nothing to measure). */
export function conceptCoverageOf(ontology: ExtractedGraph | null | undefined, examples: readonly Example[]): ConceptCoverage | null {
  if (!ontology || ontology.concepts.length === 0) return null;
  const tracker = new CoverageTracker(ontology);
  tracker.add(examples);
  return tracker.coverage();
}

/**
 * Writes a built dataset version once and makes it known: the two splits as immutable JSON lines
 * under `datasets/<version id>/` and every example in full (for the next version), the version
 * record, and `dataset.version.published` (so the instructor can train on it). The one way a
 * dataset version is stored, whether generated or made by a review. Idempotent: the same version
 * again keeps its first `createdAt` (and the review that first made it) and re-states the same event.
 */
export async function publishDatasetVersion(
  ports: Publishing & { repos: Pick<DatasetPorts['repos'], 'datasets'>; artifacts: ArtifactStore },
  input: PublishDatasetVersionInput,
): Promise<{ dataset: DatasetVersionRecord; created: boolean }> {
  const { tenant, version } = input;
  const contextId = version.contextId;
  const existing = await ports.repos.datasets.get(tenant, version.id);
  const train = await ports.artifacts.putImmutable(
    tenantKey(tenant, `datasets/${version.id}/train.jsonl`),
    toConversationalJsonl(version.train, version.systemPrompt),
  );
  const heldOut = await ports.artifacts.putImmutable(
    tenantKey(tenant, `datasets/${version.id}/held-out.jsonl`),
    toConversationalJsonl(version.heldOut, version.systemPrompt),
  );
  const examples = await ports.artifacts.putImmutable(
    tenantKey(tenant, `datasets/${version.id}/examples.json`),
    datasetExamplesFile(input.clauseIds, { train: [...version.train], heldOut: [...version.heldOut] }),
  );
  const review = existing?.review ?? input.review;
  const coverage = conceptCoverageOf(input.ontology, [...version.train, ...version.heldOut]);
  if (coverage && input.ontology) {
    // Rewritten on a re-run: the same examples measured against the graph as it is now built.
    const keys = conceptCoverageKeys(version.id);
    await ports.artifacts.put(tenantKey(tenant, keys.ontology), `${JSON.stringify(input.ontology)}\n`);
    await ports.artifacts.put(tenantKey(tenant, keys.coverage), `${JSON.stringify(coverage, null, 2)}\n`);
  }
  const dataset: DatasetVersionRecord = {
    id: version.id,
    contextId,
    sha256: version.sha256,
    documentId: input.primary.documentId,
    documentSha256: input.primary.documentSha256,
    systemPrompt: version.systemPrompt,
    train: { uri: train.uri, sha256: train.sha256, examples: version.train.length },
    heldOut: { uri: heldOut.uri, sha256: heldOut.sha256, examples: version.heldOut.length },
    examplesByKind: { ...version.examplesByKind },
    clauseCoverage: version.clauseCoverage ?? 0,
    createdAt: existing?.createdAt ?? input.now.toISOString(),
    documents: input.documents,
    examplesUri: examples.uri,
    settingsSha256: input.settingsSha256,
    incremental: input.incremental,
    review,
    conceptCoverage: coverage ? conceptCoverageRecord(coverage) : (existing?.conceptCoverage ?? null),
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
      documentId: dataset.documentId,
      documentSha256: dataset.documentSha256,
      documents: input.documents,
      systemPrompt: version.systemPrompt,
      format: 'conversational',
      splits: {
        train: { path: train.uri, sha256: train.sha256, examples: dataset.train.examples },
        heldOut: { path: heldOut.uri, sha256: heldOut.sha256, examples: dataset.heldOut.examples },
      },
      examplesByKind: dataset.examplesByKind,
      clauseCoverage: dataset.clauseCoverage,
      incremental: input.incremental,
      review,
    },
  });
  return { dataset, created: existing === null };
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
    documents: d.documents ?? [{ documentId: d.documentId, version: null, sha256: d.documentSha256 }],
    examplesUri: null,
    settingsSha256: null,
    incremental: d.incremental ?? null,
    review: d.review ?? null,
    // Not in the event: the framer's record (GET …/datasets/{v}) has it.
    conceptCoverage: null,
  };
}
