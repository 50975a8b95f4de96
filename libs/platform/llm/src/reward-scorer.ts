import type { CallOptions, ChatMessage, RewardScorer } from '@studio/ports';
import { z } from 'zod';
import { LlmError, LlmTimeoutError } from './openai-compatible-client';

export interface HttpRewardScorerOptions {
  /** The API root including the version, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` (a model server started with an API key). */
  apiKey?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Timeout of one scoring call unless the call gives its own; default 120 s. */
  timeoutMs?: number;
  /** Timeout of one load (the model is read from disk and moved to the device); default 300 s. */
  loadTimeoutMs?: number;
}

const errorBodySchema = z.object({
  error: z.object({ message: z.string(), type: z.string().nullish(), code: z.union([z.string(), z.number()]).nullish() }),
});
const rewardsSchema = z.object({ model: z.string(), scores: z.array(z.number()) });

/**
 * `RewardScorer` over HTTP: a model server's `POST /v1/load_reward_model` `{name, path}` and
 * `POST /v1/rewards` `{model, conversations}` → `{model, scores}` (`studio-runtime serve`).
 * Failures are `LlmError`s naming the call and carrying the server's status and error code; a call
 * past its timeout is an `LlmTimeoutError`. Calls are not retried (a load or a batch is repeated by the caller).
 */
export class HttpRewardScorer implements RewardScorer {
  private readonly baseUrl: string;

  constructor(private readonly options: HttpRewardScorerOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async loadRewardModel(name: string, path: string, options?: CallOptions): Promise<void> {
    const what = `loading reward model ${name} from ${path}`;
    try {
      await this.post('/load_reward_model', { name, path }, what, options?.timeoutMs ?? this.options.loadTimeoutMs ?? 300_000, options);
    } catch (error) {
      // Loaded already (by this or another caller): the model answers under its name.
      if (error instanceof LlmError && error.code === 'model_exists') return;
      throw error;
    }
  }

  async score(model: string, conversations: ChatMessage[][], options?: CallOptions): Promise<number[]> {
    if (conversations.length === 0) return [];
    const what = `rewards (${model})`;
    const json = await this.post(
      '/rewards',
      { model, conversations },
      what,
      options?.timeoutMs ?? this.options.timeoutMs ?? 120_000,
      options,
    );
    const parsed = rewardsSchema.safeParse(json);
    if (!parsed.success) throw new LlmError(`${what}: unexpected response: ${parsed.error.message}`);
    if (parsed.data.scores.length !== conversations.length) {
      throw new LlmError(`${what}: asked for ${conversations.length} scores, got ${parsed.data.scores.length}`);
    }
    return parsed.data.scores;
  }

  private async post(path: string, body: unknown, what: string, timeoutMs: number, options?: CallOptions): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let text: string;
    let status: number;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...this.options.headers,
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal,
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      if (options?.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw new LlmTimeoutError(what, timeoutMs, { cause: error });
      // fetch says only "fetch failed"; its cause (ECONNREFUSED, ENOTFOUND, bad port...) is kept.
      throw new LlmError(`${what}: the model server at ${url} cannot be reached`, undefined, undefined, undefined, { cause: error });
    }
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch (error) {
      if (status >= 200 && status < 300) {
        throw new LlmError(`${what}: response is not JSON: ${text.slice(0, 200)}`, status, undefined, undefined, { cause: error });
      }
      json = null;
    }
    if (status >= 200 && status < 300) return json;
    const err = errorBodySchema.safeParse(json);
    if (err.success) {
      const e = err.data.error;
      throw new LlmError(`${what}: HTTP ${status}: ${e.message}`, status, e.type ?? undefined, e.code == null ? undefined : String(e.code));
    }
    throw new LlmError(`${what}: HTTP ${status}: ${text.slice(0, 300)}`, status);
  }
}
