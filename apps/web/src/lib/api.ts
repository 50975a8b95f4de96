import { SseParser, type ServerSentEvent } from './sse';

/**
 * The studio's only way to the server: the gateway's public API on the same origin, every request
 * with `Authorization: Bearer <API key or OIDC access token>`. Errors arrive as RFC 9457 problem
 * JSON (or OpenAI-shaped on the OpenAI routes); ApiError keeps the status and the server's words.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown,
    readonly path: string,
  ) {
    super(status === 0 ? detail : `${status}: ${detail}`);
  }
}

/** The words of an error body: problem `detail`, Nest `message`, OpenAI `error.message`. */
export function errorDetail(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b['detail'] === 'string' && b['detail']) return b['detail'];
    if (typeof b['message'] === 'string' && b['message']) return b['message'];
    if (Array.isArray(b['message'])) return b['message'].map(String).join('; ');
    const error = b['error'];
    if (error && typeof error === 'object' && typeof (error as Record<string, unknown>)['message'] === 'string')
      return (error as Record<string, string>)['message'] as string;
  }
  return fallback;
}

export interface ApiOptions {
  /** The credential to send, or null when signed out. */
  token: () => string | null;
  /** Called on a 401 from the API (expired token, revoked key). */
  onUnauthorized?: (error: ApiError) => void;
  base?: string;
  fetchImpl?: typeof fetch;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export class Api {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiOptions) {
    this.base = options.base ?? '';
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.options.token();
    return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
  }

  private async fail(res: Response, path: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    const error = new ApiError(res.status, errorDetail(body, text.slice(0, 300) || res.statusText || 'request failed'), body, path);
    if (res.status === 401) this.options.onUnauthorized?.(error);
    throw error;
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, `the gateway could not be reached (${err instanceof Error ? err.message : String(err)})`, null, path);
    }
    if (!res.ok) await this.fail(res, path);
    return res;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.send('GET', path, undefined, signal);
    return (await res.json()) as T;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    const res = await this.send('POST', path, body);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A text resource (the Markdown audit report). */
  async text(path: string): Promise<string> {
    return (await this.send('GET', path)).text();
  }

  /**
   * Uploads a file as the request body (its own media type, its name in `?filename=`), reporting
   * progress; XMLHttpRequest because fetch has no upload progress.
   */
  upload<T>(path: string, file: Blob, mediaType: string, onProgress: (p: UploadProgress) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.base}${path}`);
      for (const [key, value] of Object.entries(this.headers({ 'content-type': mediaType }))) xhr.setRequestHeader(key, value);
      xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
      xhr.onerror = () => reject(new ApiError(0, 'the upload could not reach the gateway', null, path));
      xhr.onload = () => {
        let body: unknown = xhr.responseText;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* keep the text */
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress({ loaded: file.size, total: file.size });
          resolve(body as T);
          return;
        }
        const error = new ApiError(xhr.status, errorDetail(body, xhr.statusText || 'upload failed'), body, path);
        if (xhr.status === 401) this.options.onUnauthorized?.(error);
        reject(error);
      };
      xhr.send(file);
    });
  }

  /**
   * Follows a server-sent event stream with the Authorization header (fetch streaming), calling
   * `onEvent` for each event until the stream ends or `signal` aborts.
   */
  async stream(path: string, onEvent: (event: ServerSentEvent) => void, signal: AbortSignal): Promise<void> {
    const res = await this.fetchImpl(`${this.base}${path}`, { headers: this.headers({ accept: 'text/event-stream' }), signal });
    if (!res.ok) await this.fail(res, path);
    if (!res.body) throw new ApiError(res.status, 'the event stream has no body', null, path);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const event of parser.push(value)) onEvent(event);
    }
  }
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;
