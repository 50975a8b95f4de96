import { BadGatewayException, GatewayTimeoutException, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { describeError } from '@studio/contracts';
import { LlmError, LlmTimeoutError, LoraAdapterLoader, OpenAiCompatibleClient } from '@studio/llm';
import type { ChatChunk, ChatRequest, ChatResult } from '@studio/ports';

export const MODEL_SERVER = Symbol('MODEL_SERVER');

export interface ModelServerSettings {
  /** The OpenAI-compatible model server (`studio-runtime serve`, vLLM) that serves the deployed adapters; null: chat is off. */
  baseUrl: string | null;
  apiKey?: string;
  /** Bound on one generation (the whole stream for a streamed one). */
  timeoutMs: number;
}

/** What a deployment names: the adapter, by the name the model server knows it, and where it loads it from. */
export interface DeployedAdapter {
  adapterId: string;
  adapterDir: string;
}

/**
 * The model server behind the chat endpoint: loads a deployed adapter by name (once per process,
 * again when the server says it does not know it, e.g. after a restart) and generates with it.
 * Its failures become the gateway's: 4xx pass through, 5xx and network errors are 502, an
 * unreachable server 503, a generation past its time 504.
 */
export class ModelServer {
  private readonly client: OpenAiCompatibleClient | null;
  private readonly loader: LoraAdapterLoader | null;
  private readonly loading = new Map<string, Promise<void>>();

  constructor(readonly settings: ModelServerSettings) {
    this.client = settings.baseUrl
      ? new OpenAiCompatibleClient({
          baseUrl: settings.baseUrl,
          ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
          timeoutMs: settings.timeoutMs,
          // One more attempt for a network error or a 5xx; a generation that merely runs long is not repeated.
          retry: { maxAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 500 },
        })
      : null;
    this.loader = settings.baseUrl ? new LoraAdapterLoader(settings.baseUrl, settings.apiKey ? { apiKey: settings.apiKey } : {}) : null;
  }

  private ready(): { client: OpenAiCompatibleClient; loader: LoraAdapterLoader } {
    if (!this.client || !this.loader)
      throw new ServiceUnavailableException({ message: 'chat is not configured: the gateway has no model server (set LLM_BASE_URL)' });
    return { client: this.client, loader: this.loader };
  }

  /** Loads the adapter into the model server unless this process already did. */
  async ensureLoaded(adapter: DeployedAdapter): Promise<void> {
    const { loader } = this.ready();
    let pending = this.loading.get(adapter.adapterId);
    if (!pending) {
      pending = loader.loadAdapter(adapter.adapterId, adapter.adapterDir);
      this.loading.set(adapter.adapterId, pending);
      // A failed load is tried again by the next request.
      pending.catch(() => this.loading.delete(adapter.adapterId));
    }
    try {
      await pending;
    } catch (error) {
      throw new BadGatewayException({ message: `the model server could not load adapter ${adapter.adapterId}: ${describeError(error)}` });
    }
  }

  async chat(adapter: DeployedAdapter, request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const { client } = this.ready();
    return this.withAdapter(adapter, () => client.chat({ ...request, model: adapter.adapterId }, signal ? { signal } : undefined));
  }

  /**
   * A streamed generation. The first chunk is awaited before this returns, so a refusal of the
   * model server (unknown adapter, bad request) is an error of the request, not of the stream.
   */
  async chatStream(adapter: DeployedAdapter, request: ChatRequest, signal?: AbortSignal): Promise<AsyncIterator<ChatChunk>> {
    const { client } = this.ready();
    return this.withAdapter(adapter, async () => {
      const iterator = client.chatStream({ ...request, model: adapter.adapterId }, signal ? { signal } : undefined)[Symbol.asyncIterator]();
      const first = await iterator.next();
      let pending: IteratorResult<ChatChunk> | null = first;
      return {
        next: async () => {
          if (pending) {
            const result = pending;
            pending = null;
            return result;
          }
          try {
            return await iterator.next();
          } catch (error) {
            throw gatewayError(error);
          }
        },
        return: async () => (iterator.return ? iterator.return() : { done: true as const, value: undefined }),
      };
    });
  }

  private async withAdapter<T>(adapter: DeployedAdapter, call: () => Promise<T>): Promise<T> {
    await this.ensureLoaded(adapter);
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof LlmError && error.status === 404 && error.code === 'model_not_found')) throw gatewayError(error);
    }
    // The server does not know the adapter (it restarted, or unloaded it): load it again, once.
    this.loading.delete(adapter.adapterId);
    await this.ensureLoaded(adapter);
    try {
      return await call();
    } catch (error) {
      throw gatewayError(error);
    }
  }
}

/** A model server failure as the gateway's HTTP error. */
export function gatewayError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof LlmTimeoutError)
    return new GatewayTimeoutException({ message: `the model server did not finish: ${error.message}` });
  if (error instanceof LlmError) {
    if (error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 404)
      return new HttpException({ message: `the model refused the request: ${error.message}` }, error.status);
    if (error.status === undefined)
      return new ServiceUnavailableException({ message: `the model server is unreachable: ${error.message}`, retryAfterSeconds: 5 });
    return new BadGatewayException({ message: `the model server failed: ${error.message}` });
  }
  // An abort by the caller (the client went away) stays what it is.
  return error;
}
