/** A record the use case was asked about does not exist (an HTTP API answers 404). */
export class PipelineNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineNotFoundError';
  }
}
