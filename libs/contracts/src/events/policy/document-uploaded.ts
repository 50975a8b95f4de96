import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DOCUMENT_UPLOADED_V1 = 'policy.document.uploaded.v1';

/** The document formats the framer reads: Markdown and plain text as they are; HTML, PDF and DOCX converted to Markdown. */
export const DocumentMediaType = z.enum([
  'text/markdown',
  'text/plain',
  'text/html',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
]);
export type DocumentMediaType = z.infer<typeof DocumentMediaType>;

export const DocumentUploadedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  documentId: Id,
  filename: z.string().min(1).max(255),
  mediaType: DocumentMediaType,
  sha256: Sha256,
  sizeBytes: NonNegativeInt,
  storageUri: z.string().min(1).describe('Where the framer can read the original bytes'),
});
export type DocumentUploadedV1 = z.infer<typeof DocumentUploadedV1>;
