import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_FRAMED_V1, DOCUMENT_REVISED_V1, type CloudEvent, type DocumentFramedV1, type DocumentRevisedV1 } from '@studio/contracts';
import { EventBusExceptionFilter, PUBLISHING, type Publishing } from '@studio/nest';
import {
  forgetStaleClauses,
  indexDocumentClauses,
  readClauses,
  type ArtifactStore,
  type ClauseIndexRecord,
  type RetrievalPorts,
} from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { rebuildGraph, recordFramedDocument, revisionPending, type GraphPorts } from '../graph/graph-store';
import { ARTIFACTS, CLAUSE_INDEXES_REPOSITORY, GRAPH_PORTS, RETRIEVAL_PORTS } from '../ontology.ports';

/** Runs both parts of handling an event, so that one failing does not keep the other from running; rethrows the first failure (the bus retries both: each is idempotent). */
async function both(first: () => Promise<void>, second: () => Promise<void>): Promise<void> {
  const [a, b] = await Promise.allSettled([first(), second()]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}

/**
 * Indexes each framed document's clauses for retrieval with the pipeline's use case: the clauses
 * come from the artifact the framed event points to (no call back to the framer); indexing the
 * same document again upserts the same points. And rebuilds the context's ontology from the
 * framing artifacts of its current document versions (a revision replaces the earlier version),
 * storing a new graph version when its content changed.
 */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class FramedDocumentsHandler {
  private readonly logger = new Logger(FramedDocumentsHandler.name);

  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(RETRIEVAL_PORTS) private readonly retrieval: RetrievalPorts,
    @Inject(CLAUSE_INDEXES_REPOSITORY) private readonly indexes: Repository<ClauseIndexRecord>,
    @Inject(ARTIFACTS) private readonly artifacts: ArtifactStore,
    @Inject(GRAPH_PORTS) private readonly graph: GraphPorts,
  ) {}

  @EventPattern(DOCUMENT_FRAMED_V1)
  async onDocumentFramed(@Payload() event: CloudEvent<DocumentFramedV1>): Promise<void> {
    await both(
      () => this.indexClauses(event),
      () => this.updateGraph(event, () => recordFramedDocument(this.graph, tenantId(event.tenantid), event.data, event.time)),
    );
  }

  /** Records the document version as current and rebuilds the context's graph (a new version only when its content changed). */
  private async updateGraph(event: CloudEvent<DocumentFramedV1 | DocumentRevisedV1>, record: () => Promise<unknown>): Promise<void> {
    const { contextId, documentId } = event.data;
    if ('clausesUri' in event.data && !event.data.framingUri)
      this.logger.warn({
        msg: 'the framed document has no framing artifact (framed before the framer wrote one): it stays out of the ontology until framed again',
        tenantId: event.tenantid,
        contextId,
        documentId,
      });
    await record();
    const rebuilt = await rebuildGraph(this.graph, tenantId(event.tenantid), contextId);
    if (rebuilt.created && rebuilt.graph)
      this.logger.log({
        msg: 'ontology updated',
        tenantId: event.tenantid,
        contextId,
        graphVersion: rebuilt.graph.version,
        concepts: rebuilt.graph.concepts.length,
        relations: rebuilt.graph.relations.length,
      });
  }

  private async indexClauses(event: CloudEvent<DocumentFramedV1>): Promise<void> {
    const { contextId, documentId, documentSha256, clausesUri, clauseCount } = event.data;
    const clauses = await readClauses(this.artifacts, clausesUri);
    if (clauses.length !== clauseCount)
      throw new Error(`${clausesUri} holds ${clauses.length} clauses; the framed event says ${clauseCount}`);
    const { result } = await indexDocumentClauses(
      { ...this.publishing, ...this.retrieval, repos: { clauseIndexes: this.indexes } },
      { tenant: tenantId(event.tenantid), contextId, documentId, documentSha256, clauses },
    );
    this.logger.log({ msg: 'clauses indexed', tenantId: event.tenantid, contextId, documentId, clauses: result.indexed });
  }

  /** A new version of a document replaced some clauses: they leave the retrieval index (the new ones came with its framed event). */
  @EventPattern(DOCUMENT_REVISED_V1)
  async onDocumentRevised(@Payload() event: CloudEvent<DocumentRevisedV1>): Promise<void> {
    await both(
      () => this.forgetStale(event),
      () =>
        this.updateGraph(event, async () => {
          const { pending, currentVersion } = await revisionPending(this.graph, tenantId(event.tenantid), event.data);
          if (pending)
            this.logger.log({
              msg: "the revised document's new version is not framed here yet: the ontology keeps the current version until its framed event",
              tenantId: event.tenantid,
              contextId: event.data.contextId,
              documentId: event.data.documentId,
              currentVersion,
              toVersion: event.data.toVersion,
            });
        }),
    );
  }

  private async forgetStale(event: CloudEvent<DocumentRevisedV1>): Promise<void> {
    const forgotten = await forgetStaleClauses(
      { ...this.retrieval, repos: { clauseIndexes: this.indexes } },
      tenantId(event.tenantid),
      event.data,
    );
    const { contextId, documentId, toVersion } = event.data;
    if (forgotten > 0)
      this.logger.log({
        msg: 'stale clauses removed from the index',
        tenantId: event.tenantid,
        contextId,
        documentId,
        toVersion,
        clauses: forgotten,
      });
  }
}
