import { createHash } from 'node:crypto';
import {
  DOCUMENT_REVISED_V1,
  type ClauseChange,
  type ClauseChangeCounts,
  type DocumentDiffV1,
  type DocumentRevisedV1,
  type DocumentVersionsV1,
  type DocumentVersionV1,
  type IncrementalGeneration,
  type StaleDatasetVersion,
} from '@studio/contracts';
import {
  diffClauses,
  Example,
  normaliseQuestion,
  splitDataset,
  type ClauseDiff,
  type DatasetSplit,
  type DocumentTree,
} from '@studio/framing';
import type { Repository, TenantId } from '@studio/ports';
import { z } from 'zod';
import { PipelineNotFoundError } from './errors';
import { publishEvent } from './events';
import type { ArtifactStore, Publishing } from './ports';
import {
  ClauseRecord,
  documentVersionId,
  type AuditRunRecord,
  type AuditStaleness,
  type DatasetVersionRecord,
  type DocumentRecord,
  type DocumentVersionRecord,
} from './records';

/** Reads a clauses file (JSON lines of ClauseRecord) from the artifact store. */
export async function readClauseFile(artifacts: Pick<ArtifactStore, 'read'>, clausesUri: string): Promise<ClauseRecord[]> {
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

// ---------------------------------------------------------------- several documents ---------

/**
 * The clause tree of a context: the trees of its documents' current versions, one after the
 * other. One document's tree is returned as it is; for several, clause and section ids stay
 * those of their documents (they carry the document id), and the tree is named after the context.
 */
export function mergeDocumentTrees(contextId: string, trees: readonly DocumentTree[]): DocumentTree {
  if (trees.length === 0) throw new Error(`context "${contextId}" has no framed document`);
  if (trees.length === 1) return trees[0] as DocumentTree;
  const digest = createHash('sha256');
  for (const t of trees) digest.update(`${t.documentId}\n${t.sha256}\n`);
  return {
    documentId: contextId,
    mediaType: (trees[0] as DocumentTree).mediaType,
    title: null,
    sha256: digest.digest('hex'),
    lineCount: trees.reduce((n, t) => n + t.lineCount, 0),
    sections: trees.flatMap((t) => t.sections),
    clauses: trees.flatMap((t) => t.clauses),
  };
}

// ---------------------------------------------------------------- revisions -----------------

/** What the diff of a framed upload against the document's previous version found. */
export interface Revision {
  diff: ClauseDiff<ClauseRecord>;
  /** Old clause ids no longer current: changed, removed, renumbered. */
  staleClauseIds: string[];
  /** New clause ids the old version did not have. */
  addedClauseIds: string[];
}

export function revisionOf(before: readonly ClauseRecord[], after: readonly ClauseRecord[]): Revision {
  const diff = diffClauses(before, after);
  const afterIds = new Set(after.map((c) => c.id));
  const beforeIds = new Set(before.map((c) => c.id));
  return {
    diff,
    staleClauseIds: before.filter((c) => !afterIds.has(c.id)).map((c) => c.id),
    addedClauseIds: after.filter((c) => !beforeIds.has(c.id)).map((c) => c.id),
  };
}

/** The clause ids each example of a dataset version cites, from its full examples file, else its two splits. */
export async function exampleClauseIds(
  artifacts: Pick<ArtifactStore, 'read'>,
  dataset: Pick<DatasetVersionRecord, 'examplesUri' | 'train' | 'heldOut'>,
): Promise<string[][]> {
  if (dataset.examplesUri) return (await readDatasetExamples(artifacts, dataset.examplesUri)).examples.map((e) => e.example.clauseIds);
  const out: string[][] = [];
  for (const uri of [dataset.train.uri, dataset.heldOut.uri]) {
    for (const line of (await artifacts.read(uri)).split('\n')) {
      if (line.trim() === '') continue;
      const ids = (JSON.parse(line) as { clause_ids?: unknown }).clause_ids;
      out.push(Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []);
    }
  }
  return out;
}

/** The context's dataset versions (the newest `limit`) with examples citing any of `staleClauseIds`. */
export async function staleDatasetVersions(
  ports: { datasets: Pick<Repository<DatasetVersionRecord>, 'find'>; artifacts: Pick<ArtifactStore, 'read'> },
  tenant: TenantId,
  contextId: string,
  staleClauseIds: readonly string[],
  limit = 50,
): Promise<StaleDatasetVersion[]> {
  if (staleClauseIds.length === 0) return [];
  const stale = new Set(staleClauseIds);
  const out: StaleDatasetVersion[] = [];
  for (const dataset of await ports.datasets.find(tenant, { contextId }, { sort: { createdAt: -1 }, limit })) {
    const examples = await exampleClauseIds(ports.artifacts, dataset);
    const staleExamples = examples.filter((ids) => ids.some((id) => stale.has(id))).length;
    if (staleExamples > 0) out.push({ datasetVersionId: dataset.id, staleExamples, examples: examples.length });
  }
  return out;
}

export interface ReviseDocumentPorts {
  repos: {
    clauses: Pick<Repository<ClauseRecord>, 'find' | 'delete'>;
    /** The context's dataset versions, to name those a revision makes stale (none named without it). */
    datasets?: Pick<Repository<DatasetVersionRecord>, 'find'>;
  };
  artifacts: Pick<ArtifactStore, 'read'>;
}

/**
 * After a new version of a document was framed and its clauses stored: diffs it against the
 * previous version, removes the clauses of the previous version that the new one does not have
 * (so the context's clauses are those of its documents' current versions), and names the dataset
 * versions whose examples cite a clause that is no longer current. Returns the revision and the
 * `policy.document.revised` data to publish (publishRevision) once the new version is recorded.
 */
export async function reviseDocument(
  ports: ReviseDocumentPorts,
  input: { tenant: TenantId; previous: DocumentVersionRecord; current: DocumentVersionRecord; clauses: readonly ClauseRecord[] },
): Promise<{ revision: Revision; event: DocumentRevisedV1 }> {
  const { tenant, previous, current } = input;
  if (!previous.clausesUri) throw new Error(`version ${previous.id} has no clauses to diff against`);
  const revision = revisionOf(await readClauseFile(ports.artifacts, previous.clausesUri), input.clauses);
  const currentIds = new Set(input.clauses.map((c) => c.id));
  for (const clause of await ports.repos.clauses.find(tenant, { contextId: current.contextId, documentId: current.documentId })) {
    if (!currentIds.has(clause.id)) await ports.repos.clauses.delete(tenant, clause.id);
  }
  const event: DocumentRevisedV1 = {
    version: 'v1',
    contextId: current.contextId,
    documentId: current.documentId,
    fromVersion: previous.version,
    toVersion: current.version,
    fromSha256: previous.sha256,
    toSha256: current.sha256,
    summary: revision.diff.summary,
    staleClauseIds: revision.staleClauseIds,
    addedClauseIds: revision.addedClauseIds,
    staleDatasetVersions: ports.repos.datasets
      ? await staleDatasetVersions(
          { datasets: ports.repos.datasets, artifacts: ports.artifacts },
          tenant,
          current.contextId,
          revision.staleClauseIds,
        )
      : [],
  };
  return { revision, event };
}

/** Publishes `policy.document.revised`, with a deterministic id: a redelivery re-states it. */
export async function publishRevision(ports: Publishing, tenant: TenantId, data: DocumentRevisedV1): Promise<void> {
  await publishEvent(ports.bus, DOCUMENT_REVISED_V1, {
    tenant,
    contextId: data.contextId,
    subject: data.documentId,
    id: `revised-${data.documentId}-v${data.fromVersion}-v${data.toVersion}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data,
  });
}

// ---------------------------------------------------------------- stale audits --------------

/** "12 of the dataset's examples cite clauses that document doc-a v1→v2 changed" */
export function staleReason(staleExamples: number, revisions: AuditStaleness['revisions']): string {
  const what = revisions.length
    ? `that ${revisions.map((r) => `document ${r.documentId} v${r.fromVersion}→v${r.toVersion}`).join(' and ')} changed`
    : 'that are no longer current';
  return `${staleExamples} of the audited dataset's examples cite clauses ${what}`;
}

/**
 * "Mark the audits a document revision made stale": every audit of the context whose dataset
 * version the revision names gets the revision added to its `stale` mark (idempotent: a
 * redelivered revision is recorded once). Returns the audits marked.
 */
export async function markStaleAudits(
  audits: Pick<Repository<AuditRunRecord>, 'find' | 'upsert'>,
  tenant: TenantId,
  revision: Pick<DocumentRevisedV1, 'contextId' | 'documentId' | 'fromVersion' | 'toVersion' | 'staleDatasetVersions'>,
  now: Date = new Date(),
): Promise<AuditRunRecord[]> {
  if (revision.staleDatasetVersions.length === 0) return [];
  const staleExamples = new Map(revision.staleDatasetVersions.map((d) => [d.datasetVersionId, d.staleExamples]));
  const found = await audits.find(tenant, { contextId: revision.contextId, datasetVersionId: { in: [...staleExamples.keys()] } });
  const marked: AuditRunRecord[] = [];
  for (const audit of found) {
    const entry = {
      documentId: revision.documentId,
      fromVersion: revision.fromVersion,
      toVersion: revision.toVersion,
      staleExamples: staleExamples.get(audit.datasetVersionId) ?? 0,
    };
    const revisions = audit.stale?.revisions ?? [];
    if (revisions.some((r) => r.documentId === entry.documentId && r.toVersion === entry.toVersion)) continue;
    const all = [...revisions, entry];
    const count = Math.max(audit.stale?.staleExamples ?? 0, ...all.map((r) => r.staleExamples));
    const updated: AuditRunRecord = {
      ...audit,
      stale: { since: audit.stale?.since ?? now.toISOString(), reason: staleReason(count, all), staleExamples: count, revisions: all },
    };
    await audits.upsert(tenant, updated);
    marked.push(updated);
  }
  return marked;
}

// ---------------------------------------------------------------- clauses of a dataset -------

export interface DatasetClausePorts {
  repos: {
    clauses: Pick<Repository<ClauseRecord>, 'find'>;
    datasets: Pick<Repository<DatasetVersionRecord>, 'get'>;
    documentVersions: Pick<Repository<DocumentVersionRecord>, 'find'>;
  };
  artifacts: Pick<ArtifactStore, 'read'>;
}

/**
 * The clauses a dataset version was generated from: those of its documents' versions at the
 * time, read from their clause files (a later version of a document has replaced them in the
 * context). What an audit of a model trained on that version checks its answers against. A
 * version that does not list its documents (an older record) gets the context's current clauses.
 */
export async function clausesOfDataset(
  ports: DatasetClausePorts,
  tenant: TenantId,
  contextId: string,
  datasetVersionId: string,
): Promise<ClauseRecord[]> {
  const dataset = await ports.repos.datasets.get(tenant, datasetVersionId);
  if (!dataset || dataset.contextId !== contextId)
    throw new PipelineNotFoundError(`dataset version "${datasetVersionId}" not found in context "${contextId}"`);
  if (dataset.documents.length === 0) return ports.repos.clauses.find(tenant, { contextId }, { sort: { documentId: 1, position: 1 } });
  const out: ClauseRecord[] = [];
  for (const d of dataset.documents) {
    const [version] = await ports.repos.documentVersions.find(
      tenant,
      { contextId, documentId: d.documentId, sha256: d.sha256, status: 'framed' },
      { limit: 1 },
    );
    if (!version?.clausesUri)
      throw new PipelineNotFoundError(
        `dataset version "${datasetVersionId}" was generated from document "${d.documentId}" sha256 ${d.sha256.slice(0, 16)}…, of which no framed version is recorded`,
      );
    out.push(...(await readClauseFile(ports.artifacts, version.clausesUri)));
  }
  return out;
}

// ---------------------------------------------------------------- read models ---------------

export function documentVersionView(record: DocumentVersionRecord, current: number | null): DocumentVersionV1 {
  return {
    id: record.id,
    contextId: record.contextId,
    documentId: record.documentId,
    version: record.version,
    filename: record.filename,
    mediaType: record.mediaType,
    sha256: record.sha256,
    sizeBytes: record.sizeBytes,
    status: record.status,
    current: record.version === current,
    title: record.title,
    clauseCount: record.clauseCount,
    statementCount: record.statementCount,
    error: record.error,
    previousVersion: record.previousVersion,
    changes: record.changes,
    receivedAt: record.receivedAt,
  };
}

export interface VersionReadPorts {
  repos: {
    documents: Pick<Repository<DocumentRecord>, 'get'>;
    documentVersions: Pick<Repository<DocumentVersionRecord>, 'get' | 'find'>;
  };
  artifacts: Pick<ArtifactStore, 'read'>;
}

async function documentOf(ports: VersionReadPorts, tenant: TenantId, contextId: string, documentId: string): Promise<DocumentRecord> {
  const document = await ports.repos.documents.get(tenant, documentId);
  if (!document || document.contextId !== contextId)
    throw new PipelineNotFoundError(`document "${documentId}" not found in context "${contextId}"`);
  return document;
}

/** "List the versions of this document", newest first. */
export async function listDocumentVersions(
  ports: VersionReadPorts,
  tenant: TenantId,
  contextId: string,
  documentId: string,
): Promise<DocumentVersionsV1> {
  const document = await documentOf(ports, tenant, contextId, documentId);
  const versions = await ports.repos.documentVersions.find(tenant, { contextId, documentId }, { sort: { version: -1 }, limit: 1000 });
  return {
    contextId,
    documentId,
    currentVersion: document.version,
    versions: versions.map((v) => documentVersionView(v, document.version)),
  };
}

export const DiffQuery = z
  .object({
    from: z.coerce.number().int().min(1).optional().describe('Old version (default: the one before `to`)'),
    to: z.coerce.number().int().min(1).optional().describe('New version (default: the current one)'),
    unchanged: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .describe('List unchanged clauses too'),
  })
  .strict();
export type DiffQuery = z.infer<typeof DiffQuery>;

/** A version's stored clauses, or a 404/400-kind error naming why there are none. */
async function clausesOfVersion(
  ports: VersionReadPorts,
  tenant: TenantId,
  documentId: string,
  version: number,
): Promise<DocumentVersionRecord> {
  const record = await ports.repos.documentVersions.get(tenant, documentVersionId(documentId, version));
  if (!record) throw new PipelineNotFoundError(`document "${documentId}" has no version ${version}`);
  if (record.status !== 'framed' || !record.clausesUri)
    throw new PipelineNotFoundError(
      `version ${version} of document "${documentId}" was rejected (${record.error ?? 'not framed'}): it has no clauses`,
    );
  return record;
}

const clauseView = (c: ClauseRecord) => ({ id: c.id, numbering: c.numbering, text: c.text });

/**
 * "Show what changed in this document between two versions": the clause-level diff (added,
 * changed, moved, removed) of two framed versions, by default the current one against the
 * framed version it revised.
 */
export async function diffDocumentVersions(
  ports: VersionReadPorts,
  tenant: TenantId,
  contextId: string,
  documentId: string,
  query: Partial<DiffQuery> = {},
): Promise<DocumentDiffV1> {
  const document = await documentOf(ports, tenant, contextId, documentId);
  const toVersion = query.to ?? document.version;
  if (toVersion === null) throw new PipelineNotFoundError(`document "${documentId}" has no framed version`);
  const to = await clausesOfVersion(ports, tenant, documentId, toVersion);
  const fromVersion = query.from ?? to.previousVersion;
  if (fromVersion === null)
    throw new PipelineNotFoundError(`version ${toVersion} of document "${documentId}" is its first: there is nothing to diff it against`);
  const from = await clausesOfVersion(ports, tenant, documentId, fromVersion);
  const diff = diffClauses(
    await readClauseFile(ports.artifacts, from.clausesUri as string),
    await readClauseFile(ports.artifacts, to.clausesUri as string),
  );
  const changes: ClauseChange[] = diff.entries
    .filter((e) => query.unchanged === true || e.type !== 'unchanged')
    .map((e) => ({
      type: e.type,
      from: 'from' in e ? clauseView(e.from) : null,
      to: 'to' in e ? clauseView(e.to) : null,
      similarity: e.type === 'changed' ? Math.round(e.similarity * 1000) / 1000 : null,
      matchedBy: e.type === 'changed' ? e.matchedBy : null,
    }));
  return {
    contextId,
    documentId,
    from: { version: from.version, sha256: from.sha256 },
    to: { version: to.version, sha256: to.sha256 },
    summary: diff.summary,
    changes,
  };
}

// ---------------------------------------------------------------- incremental dataset --------

/** The full examples of a dataset version (what the next version keeps verbatim) and the clause ids it was generated from. */
export const DatasetExamplesFile = z.object({
  version: z.literal(1),
  clauseIds: z.array(z.string().min(1)),
  examples: z.array(z.object({ split: z.enum(['train', 'heldOut']), example: Example })),
});
export type DatasetExamplesFile = z.infer<typeof DatasetExamplesFile>;

export function datasetExamplesFile(clauseIds: readonly string[], split: DatasetSplit): string {
  const file: DatasetExamplesFile = {
    version: 1,
    clauseIds: [...clauseIds],
    examples: [
      ...split.train.map((example) => ({ split: 'train' as const, example })),
      ...split.heldOut.map((example) => ({ split: 'heldOut' as const, example })),
    ],
  };
  return `${JSON.stringify(file)}\n`;
}

export async function readDatasetExamples(artifacts: Pick<ArtifactStore, 'read'>, uri: string): Promise<DatasetExamplesFile> {
  const parsed = DatasetExamplesFile.safeParse(JSON.parse(await artifacts.read(uri)));
  if (!parsed.success) throw new Error(`${uri}: not a dataset examples file: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export interface IncrementalInput {
  previous: DatasetExamplesFile;
  /** Every example generated from the current clauses (templates, call-outs, seeds). */
  candidates: readonly Example[];
  /** The current clause ids of the context. */
  clauseIds: readonly string[];
  heldOutRatio: number;
  seed: number;
}

export interface IncrementalResult {
  split: DatasetSplit;
  counts: Omit<IncrementalGeneration, 'fromDatasetVersionId'>;
  /** Ids of the previous version's examples that cite a clause no longer current. */
  staleExampleIds: string[];
}

/**
 * The next dataset version after documents changed, regenerating only what changed. Clause ids
 * are content-addressed (document, numbering, text), so an id present before and now names an
 * unchanged clause:
 * - an example of the previous version whose clauses are all still current is kept verbatim, in
 *   its split (same id, same bytes);
 * - one citing a clause no longer current (changed, removed, renumbered) is stale and dropped;
 * - of the examples generated from the current clauses, those citing a clause the previous
 *   version did not have (added, changed, renumbered) are the regenerated ones; a regenerated
 *   question that a kept example already asks is left out (no duplicate, no leak across splits);
 *   they are split train/held-out on their own with the same seed and ratio.
 */
export function mergeIncremental(input: IncrementalInput): IncrementalResult {
  const current = new Set(input.clauseIds);
  const before = new Set(input.previous.clauseIds);
  const kept: DatasetSplit = { train: [], heldOut: [] };
  const staleExampleIds: string[] = [];
  for (const { split, example } of input.previous.examples) {
    if (example.clauseIds.every((id) => current.has(id))) kept[split].push(example);
    else staleExampleIds.push(example.id);
  }
  const keptQuestions = new Set([...kept.train, ...kept.heldOut].map((e) => normaliseQuestion(e.question)));
  const keptIds = new Set([...kept.train, ...kept.heldOut].map((e) => e.id));
  const regenerated = input.candidates.filter(
    (e) =>
      e.clauseIds.some((id) => !before.has(id)) &&
      e.clauseIds.every((id) => current.has(id)) &&
      !keptIds.has(e.id) &&
      !keptQuestions.has(normaliseQuestion(e.question)),
  );
  const fresh = splitDataset(regenerated, { heldOutRatio: input.heldOutRatio, seed: input.seed });
  return {
    split: { train: [...kept.train, ...fresh.train], heldOut: [...kept.heldOut, ...fresh.heldOut] },
    counts: { kept: kept.train.length + kept.heldOut.length, regenerated: regenerated.length, dropped: staleExampleIds.length },
    staleExampleIds,
  };
}

/** "3 kept, 2 regenerated, 1 dropped" */
export function describeIncremental(counts: Pick<IncrementalGeneration, 'kept' | 'regenerated' | 'dropped'>): string {
  return `${counts.kept} kept, ${counts.regenerated} regenerated, ${counts.dropped} dropped`;
}

export type { ClauseChangeCounts };
