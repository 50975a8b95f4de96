import { DocumentValidationError } from './errors';
import { DocumentId } from './model';

export const DEFAULT_MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

export interface DecodeOptions {
  /** Largest accepted document, in UTF-8 bytes; default 2 MiB. */
  maxBytes?: number;
}

// C0 controls except tab, line feed and carriage return, plus DEL.
function countControlCharacters(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) n++;
  }
  return n;
}
const MAX_CONTROL_SHARE = 0.01;
const MAX_REPLACEMENT_SHARE = 0.001;
const MAX_REPLACEMENT_COUNT = 10;

export function assertDocumentId(documentId: string): void {
  const result = DocumentId.safeParse(documentId);
  if (!result.success) {
    throw new DocumentValidationError(
      'invalid-document-id',
      `document id ${JSON.stringify(documentId)} is invalid: ${result.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
}

/**
 * Check that `input` is a text document the framer can read and return its text with line endings
 * normalised to '\n' and any byte-order mark removed. Rejects, with a `DocumentValidationError`
 * naming the problem: empty documents, documents over the size limit, binary content (NUL bytes or
 * a high share of control characters) and text that is not valid UTF-8.
 */
export function decodeDocument(input: string | Uint8Array, options: DecodeOptions = {}): string {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const byteLength = typeof input === 'string' ? new TextEncoder().encode(input).length : input.length;
  if (byteLength > maxBytes) {
    throw new DocumentValidationError('too-large', `document is ${byteLength} bytes, over the limit of ${maxBytes} bytes`);
  }
  const text = (typeof input === 'string' ? input : decodeUtf8(input)).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (text.trim().length === 0) {
    throw new DocumentValidationError('empty', 'document is empty');
  }
  if (text.includes('\u0000')) {
    throw new DocumentValidationError('binary', 'document contains NUL bytes: it is binary content, not text');
  }
  const controls = countControlCharacters(text);
  if (controls / text.length > MAX_CONTROL_SHARE) {
    throw new DocumentValidationError(
      'binary',
      `document has ${controls} control characters (${((100 * controls) / text.length).toFixed(1)}% of the text): it looks like binary content, not text`,
    );
  }
  const replacements = text.match(/\uFFFD/g)?.length ?? 0;
  if (replacements >= MAX_REPLACEMENT_COUNT || (replacements > 0 && replacements / text.length > MAX_REPLACEMENT_SHARE)) {
    throw new DocumentValidationError(
      'invalid-utf8',
      `document contains ${replacements} Unicode replacement characters (U+FFFD): it was not valid UTF-8 when decoded`,
    );
  }
  return text;
}

function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.includes(0)) {
    throw new DocumentValidationError('binary', 'document contains NUL bytes: it is binary content, not text');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DocumentValidationError('invalid-utf8', 'document is not valid UTF-8 text');
  }
}
