import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AccessError } from '../auth/access-errors';
import { problemFor, type ProblemResponse } from '../http/problem-details';

/** The error body of the OpenAI API, which its clients (the `openai` packages) read. */
export interface OpenAiError {
  error: { message: string; type: string; code: string | null; param: string | null };
}

const TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['authentication_error', 'invalid_api_key'],
  403: ['permission_error', 'insufficient_permissions'],
  404: ['invalid_request_error', 'not_found'],
  409: ['invalid_request_error', 'conflict'],
  413: ['invalid_request_error', 'request_too_large'],
  415: ['invalid_request_error', 'unsupported_media_type'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
};

/** An OpenAI-shaped error for a status: the type and code its clients expect, the message in words. */
export function openAiError(status: number, message: string, options: { code?: string | null; param?: string | null } = {}): OpenAiError {
  const [type, code] = TYPES[status] ?? (status >= 500 ? ['api_error', 'server_error'] : ['invalid_request_error', null]);
  return { error: { message, type, code: options.code === undefined ? code : options.code, param: options.param ?? null } };
}

/** An error thrown on the OpenAI-compatible routes, with the code to answer (model_not_found...). */
export class OpenAiHttpError extends HttpException {
  constructor(status: number, message: string, code: string) {
    super({ message, openAiCode: code }, status);
  }
}

/** The OpenAI error body for any error of these routes: an HttpException keeps its status and words, anything else is a 500. */
export function openAiErrorFor(error: unknown): { status: number; body: OpenAiError; retryAfterSeconds?: number } {
  // The guard's and the rate limiter's refusals have their own OpenAI form (and have set their headers).
  if (error instanceof AccessError) return { status: error.getStatus(), body: error.openAi() };
  const problem = problemFor(error);
  const issues = problem['issues'];
  const param = Array.isArray(issues) && issues.length > 0 ? String((issues[0] as { path?: unknown }).path ?? '') || null : null;
  const code = typeof problem['openAiCode'] === 'string' ? problem['openAiCode'] : undefined;
  const retryAfter = problem['retryAfterSeconds'];
  return {
    status: problem.status,
    body: openAiError(problem.status, problem.detail, { code, param }),
    ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
  };
}

/**
 * Errors of the OpenAI-compatible routes (`/v1/models`, `/v1/chat/completions`) in the OpenAI
 * shape `{"error": {"message", "type", "code", "param"}}`, with the same statuses as the rest of
 * the API (401 with `WWW-Authenticate`, 403, 404, 429 with `Retry-After`...). Bound to those
 * controllers, so it also answers for the guard and the rate limit in front of them.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpenAiApi');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ProblemResponse & { getHeader?(name: string): unknown }>();
    if (res.headersSent) return;
    const { status, body, retryAfterSeconds } = openAiErrorFor(error);
    if (status >= 500 && !(error instanceof HttpException))
      this.logger.error({ msg: 'unhandled error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.ceil(retryAfterSeconds)));
    if (status === 401 && !res.getHeader?.('www-authenticate')) res.setHeader('WWW-Authenticate', 'Bearer');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.status(status).end(JSON.stringify(body));
  }
}
