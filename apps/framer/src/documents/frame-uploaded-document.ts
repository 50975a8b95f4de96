import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DOCUMENT_FRAMED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { countStatementsByKind, DocumentValidationError, extractStatements, parseDocument, type DocumentTree } from '@studio/framing';
import { EventPublisher } from '@studio/nest';
import { tenantId, type Repository, type TenantId } from '@studio/ports';
import { CLAUSES_REPOSITORY, type FramedClause } from '../clauses/framed-clause';
import type { PolicyDocument } from './policy-document';
import { DOCUMENTS, RecordUploadedDocument } from './record-uploaded-document';

export const DOCUMENT_ARTIFACTS = Symbol('DOCUMENT_ARTIFACTS');

/** Where the framer keeps original documents (the shared artifact folder). */
export interface DocumentArtifacts {
  putImmutable(key: string, content: string | Uint8Array): Promise<{ uri: string; sha256: string; created: boolean }>;
  readBytes(uri: string): Promise<Uint8Array>;
}

/** The bytes behind an upload's storage URI: a base64 `data:` URI, or an artifact. */
export async function uploadedBytes(storageUri: string, artifacts: DocumentArtifacts): Promise<Uint8Array> {
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

function sectionTitle(tree: DocumentTree, sectionId: string | null): string | null {
  return sectionId ? (tree.sections.find((s) => s.id === sectionId)?.title ?? null) : null;
}

/**
 * "Frame the document that was uploaded": keeps its bytes in the artifact store, parses it into
 * clauses with stable ids (document, numbering path, content hash), extracts the normative
 * statements, stores the clauses and publishes `policy.document.framed`. Idempotent: the same
 * document framed again writes the same clause ids and publishes an event with the same id.
 * A document that cannot be framed is recorded as rejected, with the reason, and nothing is published.
 */
@Injectable()
export class FrameUploadedDocument {
  private readonly logger = new Logger(FrameUploadedDocument.name);

  constructor(
    private readonly record: RecordUploadedDocument,
    @Inject(DOCUMENTS) private readonly documents: Repository<PolicyDocument>,
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: Repository<FramedClause>,
    @Inject(DOCUMENT_ARTIFACTS) private readonly artifacts: DocumentArtifacts,
    private readonly events: EventPublisher,
  ) {}

  async execute(event: CloudEvent<DocumentUploadedV1>): Promise<PolicyDocument> {
    const tenant = tenantId(event.tenantid);
    const { documentId, contextId, sha256, mediaType } = event.data;
    const before = await this.documents.get(tenant, documentId);
    if (before?.status === 'framed' && before.sha256 === sha256) return this.reframed(event, before);
    const received = await this.record.execute(event);
    const bytes = await uploadedBytes(event.data.storageUri, this.artifacts);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new Error(`document ${documentId}: its bytes have sha256 ${actual}, the upload event says ${sha256}`);

    let tree: DocumentTree;
    try {
      tree = parseDocument(bytes, { documentId, mediaType });
    } catch (error) {
      if (!(error instanceof DocumentValidationError)) throw error;
      const rejected: PolicyDocument = { ...received, status: 'rejected', error: `${error.problem}: ${error.message}` };
      await this.documents.upsert(tenant, rejected);
      this.logger.warn({ msg: 'document rejected', tenantId: tenant, contextId, documentId, problem: error.problem, error: error.message });
      return rejected;
    }
    const stored = await this.artifacts.putImmutable(
      `documents/${documentId}/${sha256}.${mediaType === 'text/markdown' ? 'md' : 'txt'}`,
      bytes,
    );
    const statements = extractStatements(tree);
    const clauses: FramedClause[] = tree.clauses.map((c, position) => ({
      id: c.id,
      contextId,
      documentId,
      position,
      numbering: c.numbering,
      title: sectionTitle(tree, c.sectionId),
      text: c.text,
    }));
    await this.clauses.upsertMany(tenant, clauses);
    const framed: PolicyDocument = {
      ...received,
      storageUri: stored.uri,
      status: 'framed',
      title: tree.title,
      clauseCount: clauses.length,
      statementCount: statements.length,
      error: null,
    };
    await this.documents.upsert(tenant, framed);
    await this.publishFramed(
      tenant,
      framed,
      clauses.map((c) => c.id),
      countStatementsByKind(statements),
    );
    this.logger.log({
      msg: 'document framed',
      tenantId: tenant,
      contextId,
      documentId,
      clauses: clauses.length,
      statements: statements.length,
    });
    return framed;
  }

  /**
   * The same bytes again (a re-upload or a redelivery): clause ids are content-addressed, so the
   * stored clauses are already these; only the upload is recorded and the framed event re-stated
   * (same event id, which consumers skip).
   */
  private async reframed(event: CloudEvent<DocumentUploadedV1>, before: PolicyDocument): Promise<PolicyDocument> {
    const tenant = tenantId(event.tenantid);
    const document: PolicyDocument = { ...before, filename: event.data.filename, receivedAt: event.time, uploadEventId: event.id };
    await this.documents.upsert(tenant, document);
    const clauses = await this.clauses.find(tenant, { contextId: before.contextId, documentId: before.id }, { sort: { position: 1 } });
    const tree = parseDocument(await this.artifacts.readBytes(before.storageUri), { documentId: before.id, mediaType: before.mediaType });
    await this.publishFramed(
      tenant,
      document,
      clauses.map((c) => c.id),
      countStatementsByKind(extractStatements(tree)),
    );
    this.logger.log({
      msg: 'document re-uploaded unchanged',
      tenantId: tenant,
      contextId: before.contextId,
      documentId: before.id,
      clauses: clauses.length,
    });
    return document;
  }

  private async publishFramed(
    tenant: TenantId,
    document: PolicyDocument,
    clauseIds: string[],
    statementsByKind: ReturnType<typeof countStatementsByKind>,
  ): Promise<void> {
    const { id: documentId, contextId, sha256 } = document;
    const statementCount = Object.values(statementsByKind).reduce((a, b) => a + b, 0);
    await this.events.publish(DOCUMENT_FRAMED_V1, {
      tenantId: tenant,
      contextId,
      subject: documentId,
      id: `framed-${documentId}-${sha256.slice(0, 16)}`,
      data: {
        version: 'v1',
        contextId,
        documentId,
        documentSha256: sha256,
        clauseCount: clauseIds.length,
        statementCount,
        statementsByKind,
        clauseIds,
      },
    });
  }
}
