import { ContextId, DOCUMENT_UPLOADED_V1, DocumentUploadedV1, Id, Name, type CloudEvent } from '@studio/contracts';
import type { DocumentProblem } from '@studio/framing';
import { documentIdFor, documentUploadedEvent as uploadEvent, DocumentRejectedError as PipelineRejection } from '@studio/pipeline';
import type { TenantId } from '@studio/ports';
import { z } from 'zod';

export const EVENT_SOURCE = '/studio/gateway';

/** Body of POST /v1/contexts/{contextId}/documents. */
export const UploadDocumentRequest = z
  .object({
    filename: Name(255).describe('Original file name, e.g. conduct-guidelines.md (no control or bidi-override characters)'),
    mediaType: DocumentUploadedV1.shape.mediaType.describe('text/markdown or text/plain'),
    content: z.string().min(1, 'must not be empty').describe('The document text (UTF-8)'),
    documentId: Id.refine((v) => !v.includes(':'), { message: 'must not contain ":"' })
      .optional()
      .describe(
        'The document this upload is a version of; by default one named by the file name. An upload under the id of a framed document with other bytes is its next version',
      ),
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

export { documentIdFor };

/**
 * Turns an upload into the `policy.document.uploaded.v1` event with the pipeline's upload use
 * case, after checking that the framer can frame it (DocumentTooLargeError, DocumentRejectedError
 * otherwise: nothing is published). The text travels in the event as a `data:` URI (storageUri).
 */
export function documentUploadedEvent(
  tenant: TenantId,
  contextId: string,
  request: UploadDocumentRequest,
  maxBytes: number,
  now: Date = new Date(),
): CloudEvent<DocumentUploadedV1> {
  ContextId.parse(contextId);
  const content = new Uint8Array(Buffer.from(request.content, 'utf8'));
  if (content.length > maxBytes) throw new DocumentTooLargeError(content.length, maxBytes);
  try {
    return uploadEvent({
      tenant,
      contextId,
      ...(request.documentId ? { documentId: request.documentId } : {}),
      filename: request.filename,
      mediaType: request.mediaType,
      content,
      maxBytes,
      source: EVENT_SOURCE,
      now,
    });
  } catch (error) {
    if (!(error instanceof PipelineRejection)) throw error;
    if (error.problem === 'too-large') throw new DocumentTooLargeError(content.length, maxBytes);
    throw new DocumentRejectedError(error.problem, error.message);
  }
}
