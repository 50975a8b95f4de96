import type { AdapterLoader } from '@studio/pipeline';

/**
 * Loads a LoRA adapter into an OpenAI-compatible server by name, the way vLLM does
 * (`POST /v1/load_lora_adapter`); `studio-runtime serve` has the same endpoint. Loading a name
 * that is already loaded succeeds.
 */
export class HttpAdapterLoader implements AdapterLoader {
  /** @param apiKey the model server's API key (LLM_API_KEY), sent as `Authorization: Bearer`; none when unset. */
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  async loadAdapter(name: string, path: string): Promise<void> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/load_lora_adapter`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) },
        body: JSON.stringify({ lora_name: name, lora_path: path }),
        signal: AbortSignal.timeout(300_000),
      });
    } catch (error) {
      // fetch says only "fetch failed"; its cause (ECONNREFUSED, ENOTFOUND, bad port...) is kept.
      throw new Error(`loading adapter ${name} into the model server at ${url} failed`, { cause: error });
    }
    if (res.ok) return;
    const body = await res.text();
    if (body.includes('lora_exists') || body.includes('already been loaded')) return;
    throw new Error(`loading adapter ${name} from ${path} failed: HTTP ${res.status} ${body.slice(0, 300)}`);
  }
}
