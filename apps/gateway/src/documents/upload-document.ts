import { createHash } from 'node:crypto';
import { buildCloudEvent, ContextId, DOCUMENT_UPLOADED_V1, DocumentUploadedV1, Name, type CloudEvent } from '@studio/contracts';
import { DocumentValidationError, parseDocument, type DocumentProblem } from '@studio/framing';
import type { TenantId } from '@studio/ports';
import { z } from 'zod';

export const EVENT_SOURCE = '/studio/gateway';

/** Body of POST /v1/contexts/{contextId}/documents. */
export const UploadDocumentRequest = z
  .object({
    filename: Name(255).describe('Original file name, e.g. conduct-guidelines.md (no control or bidi-override characters)'),
    mediaType: DocumentUploadedV1.shape.mediaType.describe('text/markdown or text/plain'),
    content: z.string().min(1, 'must not be empty').describe('The document text (UTF-8)'),
  })
  .strict();
export type UploadDocumentRequest = z.infer<typeof UploadDocumentRequest>;

export const UploadDocumentResponse = z.object({
  documentId: z.string(),
  eventId: z.string(),
  topic: z.literal(DOCUMENT_UPLOADED_V1),
  sha256: z.string(),
  sizeBytes: z.number().int(),
});
export type UploadDocumentResponse = z.infer<typeof UploadDocumentResponse>;

export class DocumentTooLargeError extends Error {
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(`document is ${sizeBytes} bytes; the limit is ${maxBytes} bytes`);
    this.name = 'DocumentTooLargeError';
  }
}

/** A document the framer could not frame (empty, binary, not UTF-8, no clause structure). */
export class DocumentRejectedError extends Error {
  constructor(
    readonly problem: Exclude<DocumentProblem, 'too-large'>,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentRejectedError';
  }
}

/**
 * The same document (same bytes) uploaded to the same context of the same tenant gets the
 * same id, so a repeated upload is an idempotent re-delivery downstream, not a new document.
 */
export function documentIdFor(tenant: TenantId, contextId: string, sha256: string): string {
  return `doc-${createHash('sha256').update(`${tenant}\n${contextId}\n${sha256}`).digest('hex').slice(0, 32)}`;
}

/**
 * Turns an upload into the `policy.document.uploaded.v1` event, after checking that the framer
 * can frame it (DocumentTooLargeError, DocumentRejectedError otherwise). The text travels in the event
 * as a `data:` URI (storageUri), so the framer can read the original bytes without shared storage.
 */
export function documentUploadedEvent(
  tenant: TenantId,
  contextId: string,
  request: UploadDocumentRequest,
  maxBytes: number,
  now: Date = new Date(),
): CloudEvent<DocumentUploadedV1> {
  ContextId.parse(contextId);
  const bytes = Buffer.from(request.content, 'utf8');
  if (bytes.length > maxBytes) throw new DocumentTooLargeError(bytes.length, maxBytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const documentId = documentIdFor(tenant, contextId, sha256);
  // The framer's own validation, before anything is published: a document it cannot frame
  // (binary, not UTF-8, no headings or numbered clauses) is refused here, not dead-lettered later.
  try {
    parseDocument(bytes, { documentId, mediaType: request.mediaType, maxBytes });
  } catch (error) {
    if (!(error instanceof DocumentValidationError)) throw error;
    if (error.problem === 'too-large') throw new DocumentTooLargeError(bytes.length, maxBytes);
    throw new DocumentRejectedError(error.problem, error.message);
  }
  return buildCloudEvent<DocumentUploadedV1>({
    topic: DOCUMENT_UPLOADED_V1,
    source: EVENT_SOURCE,
    tenantId: tenant,
    contextId,
    subject: documentId,
    time: now,
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: request.filename,
      mediaType: request.mediaType,
      sha256,
      sizeBytes: bytes.length,
      storageUri: `data:${request.mediaType};charset=utf-8;base64,${bytes.toString('base64')}`,
    },
  });
}
