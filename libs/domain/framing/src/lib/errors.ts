export type DocumentProblem = 'invalid-document-id' | 'empty' | 'too-large' | 'binary' | 'invalid-utf8' | 'no-structure';

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
