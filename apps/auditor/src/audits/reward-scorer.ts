import type { ChatMessage } from '@studio/ports';
import type { RewardScoring } from '@studio/pipeline';
import { z } from 'zod';

const Scores = z.object({ model: z.string(), scores: z.array(z.number()) });

/**
 * The model server's reward scoring (`studio-runtime serve`): `POST /v1/load_reward_model
 * {name, path}` loads a reward model from the artifact folder under a name, `POST /v1/rewards
 * {model, conversations}` answers one scalar per conversation (its last message is the answer
 * scored). Same base URL and API key as the chat client (LLM_BASE_URL, LLM_API_KEY).
 */
export class ModelServerRewardScorer implements RewardScoring {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly options: { apiKey?: string; timeoutMs?: number } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async loadRewardModel(name: string, path: string): Promise<void> {
    await this.post('/load_reward_model', { name, path }, `loading reward model ${name} from ${path}`);
  }

  async score(model: string, conversations: ChatMessage[][]): Promise<number[]> {
    const body = await this.post(
      '/rewards',
      { model, conversations },
      `scoring ${conversations.length} answers with reward model ${model}`,
    );
    const parsed = Scores.safeParse(body);
    if (!parsed.success)
      throw new Error(
        `the model server's rewards from ${model} are not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    if (parsed.data.scores.length !== conversations.length)
      throw new Error(`the model server returned ${parsed.data.scores.length} rewards for ${conversations.length} answers of ${model}`);
    return parsed.data.scores;
  }

  private async post(path: string, payload: unknown, what: string): Promise<unknown> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 300_000),
      });
    } catch (error) {
      throw new Error(`${what} at the model server ${url} failed`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
    try {
      return text ? (JSON.parse(text) as unknown) : null;
    } catch {
      throw new Error(`${what}: the model server answered something that is not JSON: ${text.slice(0, 120)}`);
    }
  }
}
