import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { EventBusExceptionFilter, PUBLISHING, type Publishing } from '@studio/nest';
import { frameUploadedDocument } from '@studio/pipeline';
import {
  ARTIFACTS,
  CLAUSES_REPOSITORY,
  DATASETS_REPOSITORY,
  DOCUMENT_VERSIONS_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type ClausesRepository,
  type DatasetsRepository,
  type DocumentsRepository,
  type DocumentVersionsRepository,
} from '../framer.ports';

/** Frames each uploaded document with the pipeline's use case. The bus has validated each event against its contract. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class DocumentEventsHandler {
  private readonly logger = new Logger(DocumentEventsHandler.name);

  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DOCUMENT_VERSIONS_REPOSITORY) private readonly documentVersions: DocumentVersionsRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
  ) {}

  @EventPattern(DOCUMENT_UPLOADED_V1)
  async onDocumentUploaded(@Payload() event: CloudEvent<DocumentUploadedV1>): Promise<void> {
    const { document, version, revision } = await frameUploadedDocument(
      {
        ...this.publishing,
        repos: { documents: this.documents, documentVersions: this.documentVersions, clauses: this.clauses, datasets: this.datasets },
        artifacts: this.artifacts,
      },
      event,
    );
    const fields = { tenantId: event.tenantid, contextId: document.contextId, documentId: document.id, version: version?.version ?? null };
    if (!version)
      this.logger.log({ msg: 'upload skipped: a later version of the document is current', ...fields, uploadEventId: event.id });
    else if (version.status === 'rejected') this.logger.warn({ msg: 'document version rejected', ...fields, error: version.error });
    else
      this.logger.log({
        msg: revision ? 'document revised' : 'document framed',
        ...fields,
        clauses: document.clauseCount,
        statements: document.statementCount,
        ...(revision ? { changes: revision.diff.summary } : {}),
      });
  }
}
