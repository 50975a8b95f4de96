import { ContextId, DOCUMENT_UPLOADED_V1, DocumentMediaType, Id, Name, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { asMediaType, isTextMediaType, type DocumentProblem, type MediaType } from '@studio/framing';
import {
  convertUpload,
  documentIdFor,
  documentUploadedEvent as uploadEvent,
  DocumentRejectedError as PipelineRejection,
  type UploadInput,
} from '@studio/pipeline';
import type { TenantId } from '@studio/ports';
import { z } from 'zod';

export const EVENT_SOURCE = '/studio/gateway';

/** The document formats an upload may have (any other is answered 415). */
export const UPLOAD_MEDIA_TYPES = DocumentMediaType.options;

/** Body of POST /v1/contexts/{contextId}/documents. */
export const UploadDocumentRequest = z
  .object({
    filename: Name(255).describe('Original file name, e.g. conduct-guidelines.md (no control or bidi-override characters)'),
    mediaType: z
      .string()
      .min(1, 'must not be empty')
      .max(255)
      .describe(`The document's format: ${UPLOAD_MEDIA_TYPES.join(', ')}; any other is answered 415`),
    content: z
      .string()
      .min(1, 'must not be empty')
      .describe('The document: its text (encoding utf8) or its bytes in base64 (encoding base64, required for PDF and DOCX)'),
    encoding: z.enum(['utf8', 'base64']).default('utf8').describe('How `content` carries the document (default utf8)'),
    documentId: Id.refine((v) => !v.includes(':'), { message: 'must not contain ":"' })
      .optional()
      .describe(
        'The document this upload is a version of; by default one named by the file name. An upload under the id of a framed document with other bytes is its next version',
      ),
  })
  .strict();
export type UploadDocumentRequest = z.input<typeof UploadDocumentRequest>;

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
    message = `document is ${sizeBytes} bytes; the limit is ${maxBytes} bytes`,
  ) {
    super(message);
    this.name = 'DocumentTooLargeError';
  }
}

/** A document the framer could not frame (empty, binary, not UTF-8, no clause structure, an unreadable PDF or DOCX, ...). */
export class DocumentRejectedError extends Error {
  constructor(
    readonly problem: Exclude<DocumentProblem, 'too-large' | 'unsupported-media-type'>,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentRejectedError';
  }
}

/** An upload of a format the framer does not read (answered 415). */
export class UnsupportedDocumentTypeError extends Error {
  readonly accepted = UPLOAD_MEDIA_TYPES;
  constructor(readonly mediaType: string) {
    super(`documents of media type ${mediaType} are not supported; upload one of ${UPLOAD_MEDIA_TYPES.join(', ')}`);
    this.name = 'UnsupportedDocumentTypeError';
  }
}

/** A body whose content does not match its encoding (answered 400). */
export class UploadEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UploadEncodingError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function rawContent(request: RawUpload): { mediaType: MediaType; content: Uint8Array } {
  const mediaType = asMediaType(request.mediaType);
  if (mediaType === null) throw new UnsupportedDocumentTypeError(request.mediaType);
  return { mediaType, content: request.content };
}

/** The document's bytes from the request: UnsupportedDocumentTypeError, UploadEncodingError. */
export function uploadContent(request: UploadDocumentRequest): { mediaType: MediaType; content: Uint8Array } {
  const mediaType = asMediaType(request.mediaType);
  if (mediaType === null) throw new UnsupportedDocumentTypeError(request.mediaType);
  const encoding = request.encoding ?? 'utf8';
  if (encoding === 'utf8') {
    if (!isTextMediaType(mediaType) && mediaType !== 'text/html') {
      throw new UploadEncodingError(`a ${mediaType} document is binary: send its bytes base64-encoded, with "encoding": "base64"`);
    }
    return { mediaType, content: new Uint8Array(Buffer.from(request.content, 'utf8')) };
  }
  const compact = request.content.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) throw new UploadEncodingError('content is not valid base64 (encoding "base64")');
  return { mediaType, content: new Uint8Array(Buffer.from(compact, 'base64')) };
}

/** A document sent as the request body itself (Content-Type: its media type), its name in the query. */
export interface RawUpload {
  filename: string;
  mediaType: string;
  content: Uint8Array;
}

/** The query of a raw upload: `?filename=rules.pdf`. */
export const RawUploadFilename = Name(255).describe("The document's file name, for an upload whose body is the document itself");

/** A readable request body (Node's IncomingMessage). */
interface BodyStream {
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  resume(): unknown;
}

/**
 * Reads a request body of at most `maxBytes` bytes: DocumentTooLargeError as soon as the declared
 * length, or the bytes received, pass the limit (the rest is read and dropped, nothing kept).
 */
export function readRawBody(req: BodyStream, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(new DocumentTooLargeError(declared, maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () =>
      size > maxBytes ? reject(new DocumentTooLargeError(size, maxBytes)) : resolve(new Uint8Array(Buffer.concat(chunks))),
    );
    req.on('error', reject);
  });
}

export { documentIdFor };

/**
 * Turns an upload into the `policy.document.uploaded.v1` event with the pipeline's upload use
 * case, after checking that the framer can frame it: an HTML, PDF or DOCX document is converted
 * (PDF.js, mammoth, htmlparser2) and the result parsed. Throws, and nothing is published:
 * UnsupportedDocumentTypeError, UploadEncodingError, DocumentTooLargeError, DocumentRejectedError.
 * The original bytes travel in the event as a `data:` URI (storageUri).
 */
export async function documentUploadedEvent(
  tenant: TenantId,
  contextId: string,
  request: UploadDocumentRequest | RawUpload,
  maxBytes: number,
  now: Date = new Date(),
): Promise<CloudEvent<DocumentUploadedV1>> {
  ContextId.parse(contextId);
  const { mediaType, content } =
    typeof request.content === 'string' ? uploadContent(request as UploadDocumentRequest) : rawContent(request as RawUpload);
  if (content.length > maxBytes) throw new DocumentTooLargeError(content.length, maxBytes);
  const input: UploadInput = { tenant, contextId, filename: request.filename, mediaType, content, maxBytes, source: EVENT_SOURCE, now };
  try {
    const documentId = 'documentId' in request && request.documentId ? { documentId: request.documentId } : {};
    return uploadEvent({ ...input, ...documentId, converted: await convertUpload(input) });
  } catch (error) {
    if (!(error instanceof PipelineRejection)) throw error;
    // Within the limit as uploaded, the text converted from it (or the PDF's pages) may not be: the message says which.
    if (error.problem === 'too-large') throw new DocumentTooLargeError(content.length, maxBytes, error.message);
    if (error.problem === 'unsupported-media-type') throw new UnsupportedDocumentTypeError(mediaType);
    throw new DocumentRejectedError(error.problem, error.message);
  }
}
