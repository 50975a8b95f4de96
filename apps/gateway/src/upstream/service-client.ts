import { BadGatewayException, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { describeError, errorCauses } from '@studio/contracts';
import { SERVICE_TOKEN_HEADER, TENANT_HEADER } from '@studio/nest';

/** What a client is told to wait before retrying when a service is unreachable. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5;

/** The services whose HTTP APIs the gateway forwards to. */
export type UpstreamName = 'framer' | 'ontology' | 'instructor' | 'auditor' | 'reward-model';

export const UPSTREAMS = Symbol('UPSTREAMS');
/** The services' base URLs; the reward-model service's may be left out (its routes then answer 503 naming REWARD_MODEL_URL). */
export type UpstreamUrls = Record<Exclude<UpstreamName, 'reward-model'>, string> & { 'reward-model'?: string };

export interface UpstreamResponse {
  status: number;
  contentType: string;
  /** Parsed JSON when the service answered JSON, the text otherwise. */
  body: unknown;
  /** The service's own Server-Timing header, when it sent one (its phases, for the gateway's). */
  serverTiming?: string;
}

/** What the gateway sets on the (Express) response of a forwarded request. */
export interface HttpResponse {
  status(code: number): unknown;
  type(contentType: string): unknown;
}

export interface ForwardRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  tenant: string;
  body?: unknown;
  query?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Forwards a request to the service that owns the data. A 2xx or 4xx answer is the client's
 * answer (the owning service decides what is valid and what exists); a 5xx becomes 502 naming
 * the service and its message; an unreachable service or a timeout becomes 503.
 */
export class ServiceClient {
  /**
   * @param serviceToken the deployment's SERVICE_TOKEN, sent in `x-studio-service-token` on every
   * call (the services refuse calls without it); the gateway always gives it, tests against plain
   * stand-ins may not.
   */
  constructor(
    private readonly urls: UpstreamUrls,
    private readonly serviceToken?: string,
  ) {}

  async forward(service: UpstreamName, request: ForwardRequest): Promise<UpstreamResponse> {
    const base = this.urls[service];
    if (base === undefined)
      throw new ServiceUnavailableException({
        message: `the ${service} service is not configured at this gateway (REWARD_MODEL_URL)`,
        service,
        retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
      });
    const url = new URL(`${base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    const timeoutMs = request.timeoutMs ?? 30_000;
    // A timer cleared with the answer (AbortSignal.timeout's would fire later for every request,
    // each making a DOMException on some later request's time).
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: {
            [TENANT_HEADER]: request.tenant,
            ...(this.serviceToken === undefined ? {} : { [SERVICE_TOKEN_HEADER]: this.serviceToken }),
            accept: 'application/json, text/markdown, application/jsonl',
            ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          signal: timeout.signal,
        });
      } catch (error) {
        const reason =
          (error as Error | undefined)?.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : // fetch says "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND...)
              (errorCauses(error).at(-1)?.message ?? describeError(error));
        throw new ServiceUnavailableException({
          message: `the ${service} service is unreachable at ${base}: ${reason}`,
          service,
          retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
        });
      }
      return await this.answer(service, response);
    } finally {
      clearTimeout(timer);
    }
  }

  private async answer(service: UpstreamName, response: Response): Promise<UpstreamResponse> {
    const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
    const text = await response.text();
    let body: unknown = text;
    if (isJson(contentType) && text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new BadGatewayException({ message: `the ${service} service answered HTTP ${response.status} with invalid JSON`, service });
      }
    }
    if (response.status >= 500) {
      throw new BadGatewayException({ message: `the ${service} service answered HTTP ${response.status}: ${messageOf(body)}`, service });
    }
    if (response.status >= 400)
      throw new HttpException(
        typeof body === 'object' && body !== null ? body : { statusCode: response.status, message: messageOf(body) },
        response.status,
      );
    const serverTiming = response.headers.get('server-timing');
    return { status: response.status, contentType, body, ...(serverTiming === null ? {} : { serverTiming }) };
  }
}

/** JSON (application/json, application/problem+json), not JSON lines (application/jsonl: an export, kept as text). */
function isJson(contentType: string): boolean {
  return /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

function messageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { detail, message } = body as { detail?: unknown; message?: unknown };
    if (detail !== undefined || message !== undefined) return String(detail ?? message);
  }
  return String(body).slice(0, 500) || 'no message';
}
