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
import { ARTIFACTS, CLAUSE_INDEXES_REPOSITORY, RETRIEVAL_PORTS } from '../ontology.ports';

/**
 * Indexes each framed document's clauses for retrieval with the pipeline's use case: the clauses
 * come from the artifact the framed event points to (no call back to the framer); indexing the
 * same document again upserts the same points.
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
  ) {}

  @EventPattern(DOCUMENT_FRAMED_V1)
  async onDocumentFramed(@Payload() event: CloudEvent<DocumentFramedV1>): Promise<void> {
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
