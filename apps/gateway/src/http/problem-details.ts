import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import { DocumentMediaType } from '@studio/contracts';
import { z } from 'zod';

/**
 * Every 4xx and 5xx of the gateway is an RFC 9457 problem (`application/problem+json`): `type`
 * (`about:blank`: the status says it all), `title` (the status phrase), `status`, `detail` (what
 * went wrong, in words), and extension members where they help: `issues` (each invalid field),
 * `problem` (why a document was refused), `service` (the service that failed). `message` repeats
 * `detail` for clients of the earlier `{ statusCode, message, error }` shape.
 */
export const ProblemDetails = z
  .object({
    type: z.string().describe('A URI naming the kind of problem; about:blank when the status code says it all'),
    title: z.string().describe('The HTTP status phrase'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('What went wrong, in words: the field, the limit, the service'),
    message: z.string().describe('The same as detail (kept for earlier clients)'),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Each invalid field of the request'),
  })
  .catchall(z.unknown());
export type ProblemDetails = z.infer<typeof ProblemDetails>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Members of Nest's default error body that the problem's own members replace. */
const REPLACED = new Set(['statusCode', 'error', 'message', 'type', 'title', 'status', 'detail']);

/** A problem from a status, a detail and extension members. */
export function problem(status: number, detail: string, extensions: Record<string, unknown> = {}): ProblemDetails {
  return {
    ...extensions,
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    message: detail,
  };
}

function detailOf(body: Record<string, unknown>, fallback: string): string {
  const value = body['detail'] ?? body['message'];
  if (Array.isArray(value)) return value.map(String).join('; ');
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

/** The problem an error answers with: HttpExceptions keep their status and members; anything else is a 500. */
export function problemFor(error: unknown): ProblemDetails {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    if (typeof body === 'string') return problem(status, body);
    const members = body as Record<string, unknown>;
    const extensions = Object.fromEntries(Object.entries(members).filter(([key]) => !REPLACED.has(key)));
    let detail = detailOf(members, error.message);
    // Nest turns the body parser's SyntaxError into a bare 400 carrying JSON.parse's words.
    if (status === 400 && Object.keys(extensions).length === 0 && /\bJSON\b/.test(detail) && !detail.startsWith('request body'))
      detail = `request body is not valid JSON: ${detail}`;
    const result = problem(status, detail, extensions);
    if (typeof members['type'] === 'string' && members['type'].length > 0) result.type = members['type'];
    return result;
  }
  // Errors of the body parser (malformed JSON, a body over the limit) carry their status.
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return problem(status, status === 400 ? `request body is not valid JSON: ${(error as Error).message}` : (error as Error).message);
  return problem(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error: the gateway could not answer this request');
}

/** What the filter writes to: Express's response. */
export interface ProblemResponse {
  headersSent?: boolean;
  status(code: number): ProblemResponse;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** Writes a problem: its status, `application/problem+json`, and `Retry-After` when the problem carries `retryAfterSeconds`. */
export function sendProblem(res: ProblemResponse, body: ProblemDetails): void {
  if (res.headersSent) return;
  const retryAfter = body['retryAfterSeconds'];
  if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(Math.ceil(retryAfter)));
  res.setHeader('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  res.status(body.status).end(JSON.stringify(body));
}

/** Answers every error of the gateway's HTTP API as a problem (see ProblemDetails). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<ProblemResponse>();
    const path = http.getRequest<{ url?: string }>().url ?? '';
    if (error instanceof HttpException && /^\/(?:ready|health)(?:[?/]|$)/.test(path)) {
      // The probes' own report (per-check status) is their answer, also when it is a 503.
      if (res.headersSent) return;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.status(error.getStatus()).end(JSON.stringify(error.getResponse()));
      return;
    }
    const body = problemFor(error);
    if (body.status >= 500 && !(error instanceof HttpException))
      this.logger.error({ msg: 'unhandled error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    sendProblem(res, body);
  }
}

interface BodyRequest {
  method: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Whether a request carries a body (a length over 0, or a chunked body). */
function hasBody(req: BodyRequest): boolean {
  const length = req.headers['content-length'];
  if (typeof length === 'string' && Number(length) > 0) return true;
  return req.headers['transfer-encoding'] !== undefined;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The types a document upload may send as its body, besides JSON: the document itself. */
export const DOCUMENT_BODY_TYPES: readonly string[] = DocumentMediaType.options;

/** Whether a Content-Type is one of the document types (parameters such as charset aside). */
export function isDocumentBody(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return DOCUMENT_BODY_TYPES.includes(type);
}

const DOCUMENT_UPLOAD_PATH = /^\/v1\/contexts\/[^/?]+\/documents\/?(?:\?|$)/;

/** A SKOS import's body is the Turtle itself. */
const SKOS_IMPORT_PATH = /^\/v1\/contexts\/[^/?]+\/ontology\/import\/?(?:\?|$)/;
export const TURTLE_BODY_TYPES: readonly string[] = ['text/turtle', 'application/x-turtle'];

/**
 * 415 for a request body that is not JSON: every body the API accepts is JSON
 * (`application/json`), except a document upload, which may also send the document itself
 * (DOCUMENT_BODY_TYPES), and a SKOS import, which sends Turtle (TURTLE_BODY_TYPES). Without it the body parser would skip the body and the request would be
 * answered 400 "request body is required", which misleads.
 */
export function requireJsonBodies(req: BodyRequest, res: ProblemResponse, next: () => void): void {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !hasBody(req)) return next();
  const type = req.headers['content-type'];
  const contentType = Array.isArray(type) ? type[0] : type;
  if (contentType && JSON_TYPE.test(contentType)) return next();
  const upload = req.method === 'POST' && DOCUMENT_UPLOAD_PATH.test(req.url ?? '');
  if (upload && contentType && isDocumentBody(contentType)) return next();
  const bareType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (req.method === 'POST' && SKOS_IMPORT_PATH.test(req.url ?? '') && TURTLE_BODY_TYPES.includes(bareType)) return next();
  const got = contentType ? `Content-Type ${contentType.split(';')[0]?.trim()}` : 'no Content-Type';
  sendProblem(
    res,
    upload
      ? problem(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          `request body must be application/json or a document of type ${DOCUMENT_BODY_TYPES.join(', ')} (got ${got})`,
          { expected: ['application/json', ...DOCUMENT_BODY_TYPES], problem: 'unsupported-media-type' },
        )
      : problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, `request body must be application/json (got ${got})`, { expected: 'application/json' }),
  );
}

/** The gateway's HTTP conventions: JSON bodies only (415 otherwise) and problem bodies for every error. */
export function applyHttpConventions(app: INestApplication): void {
  app.use(requireJsonBodies);
  app.useGlobalFilters(new ProblemDetailsFilter());
}
