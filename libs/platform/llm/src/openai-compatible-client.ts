import {
  backoffDelayMs,
  type CallOptions,
  type ChatChunk,
  type ChatRequest,
  type ChatResult,
  type LlmClient,
  type RetryPolicy,
} from '@studio/ports';
import { z } from 'zod';

export interface OpenAiCompatibleClientOptions {
  /** The API root including the version, e.g. `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Timeout of each HTTP attempt (for streams: until the stream ends), unless a call gives its own. Default 120 s. */
  timeoutMs?: number;
  /** Attempts and backoff for network errors, 429 and 5xx. Default: 4 attempts, 500 ms doubling up to 8 s. */
  retry?: RetryPolicy;
  /** Upper bound on a server's `Retry-After`. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** A call that failed: the HTTP status (absent for network errors and timeouts) and the server's message. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly type?: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LlmError';
  }
}

/** An attempt that ran past its timeout. Not retried: a slow generation would only be repeated. */
export class LlmTimeoutError extends LlmError {
  constructor(what: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${what} timed out after ${timeoutMs} ms`, undefined, undefined, undefined, options);
    this.name = 'LlmTimeoutError';
  }
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 500, maxBackoffMs: 8_000 };

const errorBodySchema = z.object({
  error: z.union([
    z.object({
      message: z.string(),
      type: z.string().nullish(),
      code: z.union([z.string(), z.number()]).nullish(),
    }),
    z.string(),
  ]),
});

const chatCompletionSchema = z.object({
  id: z.string(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
});

const chatChunkSchema = z.object({
  choices: z.array(
    z.object({
      delta: z.object({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
});

const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
});

const modelsSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LlmError(`${what}: unexpected response: ${parsed.error.message}`);
  return parsed.data;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * LlmClient over any OpenAI-compatible HTTP server (vLLM, TGI, Ollama, hosted APIs, the
 * project's model runtime) with the global `fetch`. Each attempt has a timeout combined with the
 * caller's signal; network errors, 429 and 5xx are retried with exponential backoff (or the
 * server's `Retry-After`), other 4xx never. Errors carry the server's message and status.
 */
export class OpenAiCompatibleClient implements LlmClient {
  private readonly baseUrl: string;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;

  constructor(private readonly options: OpenAiCompatibleClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    if (this.retry.maxAttempts < 1) throw new Error(`retry.maxAttempts must be at least 1, got ${this.retry.maxAttempts}`);
  }

  async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    const what = `chat completion (${request.model})`;
    const { response, signal, finished } = await this.send('POST', '/chat/completions', { ...request, stream: false }, what, options);
    try {
      const body = parse(chatCompletionSchema, await this.readJson(response, signal, what, options), what);
      const [choice] = body.choices;
      return {
        id: body.id,
        model: body.model,
        content: choice?.message.content ?? '',
        finishReason: choice?.finish_reason ?? null,
        usage: body.usage ? { promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens } : null,
      };
    } finally {
      finished();
    }
  }

  async *chatStream(request: ChatRequest, options?: CallOptions): AsyncIterable<ChatChunk> {
    const what = `chat completion stream (${request.model})`;
    const { response, signal, finished } = await this.send('POST', '/chat/completions', { ...request, stream: true }, what, options);
    try {
      if (!response.body) throw new LlmError(`${what}: response has no body`, response.status);
      let buffer = '';
      let data: string[] = [];
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await this.guard(() => reader.read(), what, signal, options);
          buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
          const lines = buffer.split(/\r\n|\r|\n/);
          buffer = done ? '' : (lines.pop() ?? '');
          if (done && lines.at(-1) !== '') lines.push('');
          for (const line of lines) {
            if (line === '') {
              // End of an event: its data lines joined by newlines.
              if (data.length === 0) continue;
              const payload = data.join('\n');
              data = [];
              if (payload.trim() === '[DONE]') return;
              const chunk = this.parseStreamEvent(payload, what);
              if (chunk) yield chunk;
            } else if (line.startsWith('data:')) {
              data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
            }
            // Comments (":") and other fields (event, id, retry) carry nothing for us.
          }
          if (done) throw new LlmError(`${what}: stream ended without [DONE]`);
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    } finally {
      finished();
    }
  }

  async embed(model: string, input: string[], options?: CallOptions): Promise<number[][]> {
    if (input.length === 0) return [];
    const what = `embeddings (${model})`;
    const { response, signal, finished } = await this.send(
      'POST',
      '/embeddings',
      { model, input, encoding_format: 'float' },
      what,
      options,
    );
    try {
      const body = parse(embeddingsSchema, await this.readJson(response, signal, what, options), what);
      if (body.data.length !== input.length) {
        throw new LlmError(`${what}: asked for ${input.length} embeddings, got ${body.data.length}`);
      }
      return [...body.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    } finally {
      finished();
    }
  }

  async listModels(options?: CallOptions): Promise<string[]> {
    const what = 'list models';
    const { response, signal, finished } = await this.send('GET', '/models', undefined, what, options);
    try {
      return parse(modelsSchema, await this.readJson(response, signal, what, options), what).data.map((m) => m.id);
    } finally {
      finished();
    }
  }

  private parseStreamEvent(payload: string, what: string): ChatChunk | undefined {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch (err) {
      throw new LlmError(`${what}: stream event is not JSON: ${payload.slice(0, 200)}`, undefined, undefined, undefined, {
        cause: err,
      });
    }
    const error = errorBodySchema.safeParse(json);
    if (error.success) {
      const e = error.data.error;
      throw typeof e === 'string'
        ? new LlmError(`${what}: ${e}`)
        : new LlmError(`${what}: ${e.message}`, undefined, e.type ?? undefined, e.code == null ? undefined : String(e.code));
    }
    const [choice] = parse(chatChunkSchema, json, what).choices;
    // A chunk without choices (e.g. the usage chunk of `stream_options.include_usage`) has no text.
    if (!choice) return undefined;
    return { delta: choice.delta?.content ?? '', finishReason: choice.finish_reason ?? null };
  }

  /**
   * One call: attempts until a response with a 2xx status, retrying network errors, 429 and 5xx.
   * The returned signal stays live until `finished()` so the body can be read under the same timeout.
   */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    what: string,
    options?: CallOptions,
  ): Promise<{ response: Response; signal: AbortSignal; finished: () => void }> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream', ...this.options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers['authorization'] = `Bearer ${this.options.apiKey}`;

    for (let attempt = 1; ; attempt++) {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new LlmTimeoutError(what, timeoutMs)), timeoutMs);
      const signal = options?.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
      const finished = () => clearTimeout(timer);
      let retryDelay: number;
      let failure: LlmError;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
        if (response.ok) return { response, signal, finished };
        failure = await this.httpError(response, what);
        finished();
        if (!isRetryableStatus(response.status)) throw failure;
        const after = retryAfterMs(response.headers.get('retry-after'));
        retryDelay = after === undefined ? backoffDelayMs(this.retry, attempt) : Math.min(after, this.maxRetryAfterMs);
      } catch (err) {
        finished();
        if (err instanceof LlmError) throw err;
        if (options?.signal?.aborted) throw options.signal.reason;
        if (timeout.signal.aborted) throw timeout.signal.reason;
        failure = new LlmError(
          `${what}: ${err instanceof Error ? describeNetworkError(err) : String(err)}`,
          undefined,
          undefined,
          undefined,
          {
            cause: err,
          },
        );
        retryDelay = backoffDelayMs(this.retry, attempt);
      }
      if (attempt >= this.retry.maxAttempts) {
        failure.message = `${failure.message} (gave up after ${attempt} attempts)`;
        throw failure;
      }
      await wait(retryDelay, options?.signal);
    }
  }

  /** Runs a body read, turning an abort by our timeout into LlmTimeoutError and keeping the caller's abort reason. */
  private async guard<T>(read: () => Promise<T>, what: string, signal: AbortSignal, options?: CallOptions): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (options?.signal?.aborted) throw options.signal.reason;
      if (signal.aborted) throw signal.reason;
      throw new LlmError(
        `${what}: reading the response failed: ${err instanceof Error ? err.message : String(err)}`,
        undefined,
        undefined,
        undefined,
        {
          cause: err,
        },
      );
    }
  }

  private async readJson(response: Response, signal: AbortSignal, what: string, options?: CallOptions): Promise<unknown> {
    const text = await this.guard(() => response.text(), what, signal, options);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new LlmError(`${what}: response is not JSON: ${text.slice(0, 200)}`, response.status, undefined, undefined, { cause: err });
    }
  }

  private async httpError(response: Response, what: string): Promise<LlmError> {
    const text = await response.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = errorBodySchema.safeParse(json);
    if (parsed.success) {
      const e = parsed.data.error;
      if (typeof e === 'string') return new LlmError(`${what}: HTTP ${response.status}: ${e}`, response.status);
      return new LlmError(
        `${what}: HTTP ${response.status}: ${e.message}`,
        response.status,
        e.type ?? undefined,
        e.code == null ? undefined : String(e.code),
      );
    }
    const detail = text.trim().slice(0, 500) || response.statusText || 'no error message';
    return new LlmError(`${what}: HTTP ${response.status}: ${detail}`, response.status);
  }
}

function describeNetworkError(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
