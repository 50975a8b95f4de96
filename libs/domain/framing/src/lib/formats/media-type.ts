import { DocumentValidationError } from '../errors';
import { MediaType } from '../model';

export const PDF = 'application/pdf' satisfies MediaType;
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' satisfies MediaType;
export const HTML = 'text/html' satisfies MediaType;

/** The media types parseDocument reads directly; the others are converted to Markdown first. */
export type TextMediaType = Extract<MediaType, 'text/markdown' | 'text/plain'>;

const BY_EXTENSION: Record<string, MediaType> = {
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.html': HTML,
  '.htm': HTML,
  '.xhtml': HTML,
  '.pdf': PDF,
  '.docx': DOCX,
};

/** The extensions a document may have, for messages. */
export const DOCUMENT_EXTENSIONS = Object.keys(BY_EXTENSION);

function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/**
 * The media type of a document from its file name. A name without an extension is plain text;
 * an extension the framer does not read (".doc", ".rtf", ".odt", ".xlsx", ...) is refused with
 * a DocumentValidationError ('unsupported-media-type') naming it.
 */
export function mediaTypeForFilename(filename: string): MediaType {
  const extension = extensionOf(filename);
  if (extension === '') return 'text/plain';
  const known = BY_EXTENSION[extension];
  if (known) return known;
  throw new DocumentValidationError(
    'unsupported-media-type',
    `${filename}: "${extension}" documents are not supported; the framer reads ${DOCUMENT_EXTENSIONS.join(', ')}`,
  );
}

/** A media type ("application/pdf", "text/html; charset=utf-8") as one the framer reads, or null. */
export function asMediaType(value: string): MediaType | null {
  const parsed = MediaType.safeParse(value.split(';')[0]?.trim().toLowerCase());
  return parsed.success ? parsed.data : null;
}

export function isTextMediaType(mediaType: MediaType): mediaType is TextMediaType {
  return mediaType === 'text/markdown' || mediaType === 'text/plain';
}

/** The file extension a document of this media type is stored under. */
export function extensionForMediaType(mediaType: MediaType): string {
  switch (mediaType) {
    case 'text/markdown':
      return 'md';
    case 'text/plain':
      return 'txt';
    case 'text/html':
      return 'html';
    case 'application/pdf':
      return 'pdf';
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      return 'docx';
  }
}
