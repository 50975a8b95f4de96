import { TextDecoder } from 'node:util';
import { DocumentValidationError } from '../errors';
import { MediaType } from '../model';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../validate';
import { docxToMarkdown } from './docx';
import { htmlToMarkdown } from './html';
import { asMediaType, isTextMediaType, mediaTypeForFilename, type TextMediaType } from './media-type';
import { pdfToMarkdown } from './pdf';

export interface ConvertOptions {
  /** Largest accepted document, in bytes, as uploaded and as converted text; default 2 MiB. */
  maxBytes?: number;
}

/** A document ready for parseDocument: its text (or, for Markdown and plain text, its own bytes) and how to parse it. */
export interface ConvertedDocument {
  /** The format of the document as uploaded. */
  sourceMediaType: MediaType;
  /** How parseDocument reads `content`: converted documents are Markdown. */
  mediaType: TextMediaType;
  /** Markdown and plain text: the bytes as given (parseDocument decodes and checks them); else the Markdown written from the document. */
  content: Uint8Array | string;
  /** Pages of a PDF; null for the other formats. */
  pages: number | null;
}

/**
 * The media type a caller names: a media type ("application/pdf") or a file name ("rules.pdf").
 * Throws DocumentValidationError 'unsupported-media-type' for any other.
 */
export function resolveMediaType(mediaTypeOrFilename: string): MediaType {
  const direct = asMediaType(mediaTypeOrFilename);
  if (direct) return direct;
  if (/^[\w.+-]+\/[\w.+-]+(?:\s*;.*)?$/.test(mediaTypeOrFilename.trim()) && !/\.\w+$/.test(mediaTypeOrFilename.trim())) {
    throw new DocumentValidationError(
      'unsupported-media-type',
      `media type ${mediaTypeOrFilename} is not supported; the framer reads ${MediaType.options.join(', ')}`,
    );
  }
  return mediaTypeForFilename(mediaTypeOrFilename);
}

/**
 * An HTML page's text: UTF-8, or the encoding its byte-order mark or its `<meta charset>` names
 * ("windows-1252", "iso-8859-1", "shift_jis", ...).
 */
function decodeHtml(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  const declared =
    /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1] ??
    /^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i.exec(head)?.[1] ??
    null;
  const bom = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  const label = bom ?? declared ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new DocumentValidationError(
      'invalid-utf8',
      `the HTML page declares the character encoding "${label}", which is not one the framer knows`,
    );
  }
  try {
    return decoder.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new DocumentValidationError(
      'invalid-utf8',
      `the HTML page is not valid ${decoder.encoding} text${declared ? ` (the encoding its <meta charset> declares)` : ''}`,
    );
  }
}

/**
 * Turns a document of any format the framer reads into what parseDocument frames: Markdown and
 * plain text pass through unchanged; HTML (htmlparser2), DOCX (mammoth, after a zip-bomb check
 * with yauzl) and PDF (PDF.js through unpdf, in a bounded worker) are converted to Markdown with
 * '#' headings, designators kept as text, list items, table rows as text and examples/notes as
 * quoted blocks. The upload is held to `maxBytes`, and so is the text converted from it.
 *
 * Throws DocumentValidationError naming the problem: 'unsupported-media-type', 'too-large',
 * 'empty', 'malformed-pdf', 'encrypted-pdf', 'no-text-layer', 'malformed-docx', 'zip-bomb',
 * 'no-text', 'invalid-utf8'.
 */
export async function convertDocument(
  bytes: Uint8Array,
  mediaTypeOrFilename: string,
  options: ConvertOptions = {},
): Promise<ConvertedDocument> {
  const sourceMediaType = resolveMediaType(mediaTypeOrFilename);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (isTextMediaType(sourceMediaType)) return { sourceMediaType, mediaType: sourceMediaType, content: bytes, pages: null };
  if (bytes.length > maxBytes) {
    throw new DocumentValidationError('too-large', `document is ${bytes.length} bytes, over the limit of ${maxBytes} bytes`);
  }
  if (bytes.length === 0) throw new DocumentValidationError('empty', 'document is empty');

  let markdown: string;
  let pages: number | null = null;
  let what: string;
  switch (sourceMediaType) {
    case 'text/html':
      what = 'HTML page';
      markdown = htmlToMarkdown(decodeHtml(bytes));
      break;
    case 'application/pdf': {
      what = 'PDF';
      const pdf = await pdfToMarkdown(bytes);
      markdown = pdf.markdown;
      pages = pdf.pages;
      break;
    }
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      what = 'DOCX';
      markdown = await docxToMarkdown(bytes);
      break;
  }
  const size = Buffer.byteLength(markdown, 'utf8');
  if (size > maxBytes) {
    throw new DocumentValidationError('too-large', `the text of the ${what} is ${size} bytes, over the limit of ${maxBytes} bytes`);
  }
  return { sourceMediaType, mediaType: 'text/markdown', content: markdown, pages };
}
