export type DocumentProblem =
  | 'invalid-document-id'
  | 'empty'
  | 'too-large'
  | 'binary'
  | 'invalid-utf8'
  | 'no-structure'
  /** A format the framer does not read (by media type or file name). */
  | 'unsupported-media-type'
  /** A PDF that PDF.js cannot read (damaged, truncated, not a PDF). */
  | 'malformed-pdf'
  /** A PDF that needs a password to open. */
  | 'encrypted-pdf'
  /** A PDF whose pages carry no text (a scan without OCR). */
  | 'no-text-layer'
  /** A DOCX that is not a zip archive, or a zip without the parts of a Word document. */
  | 'malformed-docx'
  /** An archive whose contents would expand past the size, count or ratio limits. */
  | 'zip-bomb'
  /** A format that parsed but holds no readable text (an HTML page of scripts and styles). */
  | 'no-text';

/** A document that cannot be framed; `problem` names why, the message says it in words. */
export class DocumentValidationError extends Error {
  constructor(
    readonly problem: DocumentProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentValidationError';
  }
}

/** A seed line that cannot be imported: bad JSON, wrong shape, or an unknown clause reference. */
export class SeedImportError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`seeds line ${line}: ${message}`);
    this.name = 'SeedImportError';
  }
}
