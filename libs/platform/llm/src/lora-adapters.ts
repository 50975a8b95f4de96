export interface LoraAdapterLoaderOptions {
  /** Sent as `Authorization: Bearer` (a model server started with an API key). */
  apiKey?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** How long one load may take; default 300 s (a large adapter is read from disk and moved to the device). */
  timeoutMs?: number;
}

/**
 * Loads LoRA adapters into an OpenAI-compatible server by name, the way vLLM does
 * (`POST /v1/load_lora_adapter` `{lora_name, lora_path}`); `studio-runtime serve` has the same
 * endpoint. Loading a name that is already loaded succeeds. Afterwards the adapter answers chat
 * requests whose `model` is its name.
 */
export class LoraAdapterLoader {
  private readonly url: string;

  constructor(
    baseUrl: string,
    private readonly options: LoraAdapterLoaderOptions = {},
  ) {
    this.url = `${baseUrl.replace(/\/+$/, '')}/load_lora_adapter`;
  }

  async loadAdapter(name: string, path: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...this.options.headers,
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({ lora_name: name, lora_path: path }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 300_000),
      });
    } catch (error) {
      // fetch says only "fetch failed"; its cause (ECONNREFUSED, ENOTFOUND, bad port...) is kept.
      throw new Error(`loading adapter ${name} into the model server at ${this.url} failed`, { cause: error });
    }
    if (res.ok) return;
    const body = await res.text();
    if (body.includes('lora_exists') || body.includes('already been loaded')) return;
    throw new Error(`loading adapter ${name} from ${path} failed: HTTP ${res.status} ${body.slice(0, 300)}`);
  }
}
