import { CLAUSES_INDEXED_V1, type ClausesIndexedV1, type DocumentRevisedV1 } from '@studio/contracts';
import type { ExtractedGraph } from '@studio/ontology';
import {
  encodeSparse,
  hybridPrefetchLimit,
  type LlmClient,
  type Repository,
  type TenantId,
  type VectorHit,
  type VectorIndex,
} from '@studio/ports';
import { citeClause } from '@studio/framing';
import { publishEvent } from './events';
import { fuseWithGraph, ontologyQuery, type OntologyUse } from './ontology-retrieval';
import type { ProgressSink, Publishing } from './ports';
import { clauseIndexId, type ClauseIndexRecord, type ClauseRecord } from './records';

/** The collection that holds clause vectors; its dense size comes from the embedding model. */
export const CLAUSE_COLLECTION = 'clauses';

export interface RetrievalPorts {
  llm: LlmClient;
  vectors: VectorIndex;
  /** Embedding model name on the LLM endpoint. */
  embeddingModel: string;
}

export interface IndexClausesInput {
  tenant: TenantId;
  contextId: string;
  /** The clauses (of the records, what indexing reads: id, document, numbering, title, text). */
  clauses: readonly Pick<ClauseRecord, 'id' | 'documentId' | 'numbering' | 'title' | 'text'>[];
  /** Texts per embeddings request. */
  batchSize?: number;
}

export interface IndexClausesResult {
  indexed: number;
  dimensions: number;
  /** Time spent waiting for the embeddings endpoint. */
  embedMs: number;
}

/** What is embedded for a clause: its section title and numbering give the text its context. */
export function clauseDocumentText(clause: Pick<ClauseRecord, 'numbering' | 'title' | 'text'>): string {
  return `${clause.title ? `${clause.title} ` : ''}(${citeClause(clause.numbering)}) ${clause.text}`;
}

/**
 * Indexes a context's clauses for hybrid retrieval: a dense embedding from the embeddings
 * endpoint and a lexical sparse vector per clause, upserted by clause id (re-indexing the same
 * clauses replaces them).
 */
export async function indexClauses(ports: RetrievalPorts, input: IndexClausesInput, progress?: ProgressSink): Promise<IndexClausesResult> {
  const batchSize = input.batchSize ?? 64;
  if (input.clauses.length === 0) throw new Error(`context ${input.contextId} has no clauses to index`);
  let embedMs = 0;
  let dimensions = 0;
  let indexed = 0;
  progress?.({ done: 0, total: input.clauses.length });
  for (let start = 0; start < input.clauses.length; start += batchSize) {
    const batch = input.clauses.slice(start, start + batchSize);
    const texts = batch.map(clauseDocumentText);
    const began = performance.now();
    const vectors = await ports.llm.embed(ports.embeddingModel, texts);
    embedMs += performance.now() - began;
    if (vectors.length !== batch.length) {
      throw new Error(`embeddings endpoint returned ${vectors.length} vectors for ${batch.length} texts`);
    }
    if (dimensions === 0) {
      dimensions = vectors[0]?.length ?? 0;
      await ports.vectors.ensureCollection({ name: CLAUSE_COLLECTION, denseSize: dimensions });
    }
    await ports.vectors.upsert(
      CLAUSE_COLLECTION,
      batch.map((clause, i) => ({
        id: clause.id,
        dense: vectors[i] as number[],
        sparse: encodeSparse(texts[i] as string),
        payload: {
          tenantId: input.tenant,
          contextId: input.contextId,
          clauseId: clause.id,
          documentId: clause.documentId,
          numbering: clause.numbering,
          text: clause.text,
        },
      })),
    );
    indexed += batch.length;
    progress?.({ done: indexed, total: input.clauses.length });
  }
  return { indexed, dimensions, embedMs };
}

export interface RetrievedClause {
  clauseId: string;
  numbering: string;
  text: string;
  score: number;
}

/** What retrieval may use besides the index: the context's ontology (see ontology-retrieval.ts). */
export interface RetrievalOptions {
  /** The context's graph: expands the sparse query and boosts clauses that define or govern the concepts the question names. */
  ontology?: ExtractedGraph | null;
}

/** The top-k clauses for a question by hybrid (dense + sparse, reciprocal rank fusion) search. */
export async function retrieveClauses(
  ports: RetrievalPorts,
  scope: { tenant: TenantId; contextId: string },
  question: string,
  k: number,
  options: RetrievalOptions = {},
): Promise<RetrievedClause[]> {
  return (await retrieveClausesTimed(ports, scope, question, k, options)).clauses;
}

/** A retrieval and where its time went: the question's embedding, and the vector search. */
export interface TimedRetrieval {
  clauses: RetrievedClause[];
  embedMs: number;
  searchMs: number;
  /** What the ontology added (named concepts, expansion terms, boosted clauses); null without a graph or when the question names no concept. */
  ontology: OntologyUse | null;
}

/**
 * `retrieveClauses`, with the time of its two steps (for a Server-Timing header). With a graph
 * whose concepts the question names, the sparse query is expanded and the dense and sparse
 * rankings are fused here with the graph's ranking (`fuseWithGraph`); otherwise the index fuses the
 * two rankings itself (the same RRF).
 */
export async function retrieveClausesTimed(
  ports: RetrievalPorts,
  scope: { tenant: TenantId; contextId: string },
  question: string,
  k: number,
  options: RetrievalOptions = {},
): Promise<TimedRetrieval> {
  const began = performance.now();
  // The lexical vector needs no model: it is ready before the embedding comes back.
  const embedding = ports.llm.embed(ports.embeddingModel, [question]);
  const plan = options.ontology ? ontologyQuery(options.ontology, question) : null;
  const sparse = plan?.sparse ?? encodeSparse(question);
  const [dense] = await embedding;
  const embedded = performance.now();
  if (!dense) throw new Error('embeddings endpoint returned no vector for the question');
  const scoped = { tenantId: scope.tenant, contextId: scope.contextId };
  let hits: VectorHit[];
  if (plan) {
    const prefetch = hybridPrefetchLimit(k);
    const [denseHits, sparseHits] = await Promise.all([
      ports.vectors.query(CLAUSE_COLLECTION, { ...scoped, dense, limit: prefetch }),
      // A question of stop-words only has no lexical ranking (an index may refuse an empty sparse query).
      sparse.indices.length > 0 ? ports.vectors.query(CLAUSE_COLLECTION, { ...scoped, sparse, limit: prefetch }) : Promise.resolve([]),
    ]);
    hits = fuseWithGraph([denseHits, sparseHits], plan.graphRanks, k);
  } else {
    hits = await ports.vectors.query(CLAUSE_COLLECTION, { ...scoped, dense, sparse, limit: k });
  }
  const searched = performance.now();
  return {
    clauses: hits.map((h) => ({
      clauseId: String(h.payload['clauseId'] ?? h.id),
      numbering: String(h.payload['numbering'] ?? ''),
      text: String(h.payload['text'] ?? ''),
      score: h.score,
    })),
    embedMs: embedded - began,
    searchMs: searched - embedded,
    ontology: plan?.use ?? null,
  };
}

export interface IndexDocumentPorts extends RetrievalPorts, Publishing {
  repos: { clauseIndexes: Repository<ClauseIndexRecord> };
}

export interface IndexDocumentInput {
  tenant: TenantId;
  contextId: string;
  documentId: string;
  documentSha256: string;
  clauses: readonly ClauseRecord[];
  now?: Date;
}

/**
 * "Index the clauses of this framed document for retrieval": embeds and upserts them (see
 * `indexClauses`), records the index of the document and publishes `ontology.clauses.indexed`,
 * which training waits for (the audit's RAG variant retrieves from this index).
 */
export async function indexDocumentClauses(
  ports: IndexDocumentPorts,
  input: IndexDocumentInput,
  progress?: ProgressSink,
): Promise<{ record: ClauseIndexRecord; result: IndexClausesResult }> {
  const { tenant, contextId, documentId, documentSha256 } = input;
  const result = await indexClauses(ports, { tenant, contextId, clauses: input.clauses }, progress);
  const data: ClausesIndexedV1 = {
    version: 'v1',
    contextId,
    documentId,
    documentSha256,
    clauseCount: result.indexed,
    dimensions: result.dimensions,
    embeddingModel: ports.embeddingModel,
  };
  const record = clauseIndexRecordOf(data, (input.now ?? new Date()).toISOString());
  await ports.repos.clauseIndexes.upsert(tenant, record);
  await publishEvent(ports.bus, CLAUSES_INDEXED_V1, {
    tenant,
    contextId,
    subject: documentId,
    id: `indexed-${record.id}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data,
  });
  return { record, result };
}

/**
 * "Forget the clauses a document revision replaced": deletes from the retrieval index the
 * clauses of the old version that the new one no longer has (changed, removed, renumbered), so
 * retrieval grounds answers in current clauses only. Nothing to do where the old version was
 * never indexed. Idempotent. Returns how many clause vectors were deleted.
 */
export async function forgetStaleClauses(
  ports: Pick<RetrievalPorts, 'vectors'> & { repos: { clauseIndexes: Pick<Repository<ClauseIndexRecord>, 'get'> } },
  tenant: TenantId,
  revision: Pick<DocumentRevisedV1, 'contextId' | 'documentId' | 'fromSha256' | 'staleClauseIds'>,
): Promise<number> {
  if (revision.staleClauseIds.length === 0) return 0;
  if (!(await ports.repos.clauseIndexes.get(tenant, clauseIndexId(revision.documentId, revision.fromSha256)))) return 0;
  await ports.vectors.delete(CLAUSE_COLLECTION, { tenantId: tenant, contextId: revision.contextId, ids: [...revision.staleClauseIds] });
  return revision.staleClauseIds.length;
}

/** The index record an `ontology.clauses.indexed` event states (what a consumer such as the instructor keeps). */
export function clauseIndexRecordOf(data: ClausesIndexedV1, indexedAt: string): ClauseIndexRecord {
  return {
    id: clauseIndexId(data.documentId, data.documentSha256),
    contextId: data.contextId,
    documentId: data.documentId,
    documentSha256: data.documentSha256,
    clauseCount: data.clauseCount,
    dimensions: data.dimensions,
    embeddingModel: data.embeddingModel,
    indexedAt,
  };
}
