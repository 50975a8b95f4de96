import { createServer, type Server } from 'node:http';
import { LlmError, LlmTimeoutError } from './openai-compatible-client';
import { HttpRewardScorer } from './reward-scorer';

describe('HttpRewardScorer', () => {
  const seen: { url: string; authorization: string | undefined; body: unknown }[] = [];
  let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: '{}' };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(raw) });
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      }, answer.delayMs ?? 0);
    });
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/`;
  });
  afterAll(() => server.close());

  const good = [
    { role: 'user' as const, content: 'May I accept a gift?' },
    { role: 'assistant' as const, content: 'No, not from a Business Partner.' },
  ];
  const bad = [good[0]!, { role: 'assistant' as const, content: 'Yes, anything goes.' }];

  it('posts the conversations to /rewards with the API key and returns the scores in order', async () => {
    answer = { status: 200, body: JSON.stringify({ model: 'rm-1', scores: [1.5, -0.25] }) };
    const scores = await new HttpRewardScorer({ baseUrl: base, apiKey: 'secret-key' }).score('rm-1', [good, bad]);
    expect(scores).toEqual([1.5, -0.25]);
    expect(seen.at(-1)).toEqual({
      url: '/v1/rewards',
      authorization: 'Bearer secret-key',
      body: { model: 'rm-1', conversations: [good, bad] },
    });
  });

  it('asks nothing for no conversations', async () => {
    const before = seen.length;
    await expect(new HttpRewardScorer({ baseUrl: base }).score('rm-1', [])).resolves.toEqual([]);
    expect(seen).toHaveLength(before);
  });

  it('loads a reward model by name and path, and takes one already loaded as loaded', async () => {
    answer = { status: 200, body: '{"name":"rm-1","loaded":true}' };
    await new HttpRewardScorer({ baseUrl: base, apiKey: 'k' }).loadRewardModel('rm-1', '/artifacts/run-rm/artifact');
    expect(seen.at(-1)).toEqual({
      url: '/v1/load_reward_model',
      authorization: 'Bearer k',
      body: { name: 'rm-1', path: '/artifacts/run-rm/artifact' },
    });
    answer = {
      status: 400,
      body: '{"error":{"message":"a model named \'rm-1\' is already loaded","type":"invalid_request_error","code":"model_exists"}}',
    };
    await expect(new HttpRewardScorer({ baseUrl: base }).loadRewardModel('rm-1', '/artifacts/run-rm/artifact')).resolves.toBeUndefined();
  });

  it("names the call, the status and the server's message and code of a refusal", async () => {
    answer = {
      status: 404,
      body: '{"error":{"message":"The reward model `rm-9` does not exist.","type":"invalid_request_error","code":"model_not_found"}}',
    };
    const error = (await new HttpRewardScorer({ baseUrl: base }).score('rm-9', [good]).catch((e: unknown) => e)) as LlmError;
    expect(error).toBeInstanceOf(LlmError);
    expect(error.message).toBe('rewards (rm-9): HTTP 404: The reward model `rm-9` does not exist.');
    expect([error.status, error.code]).toEqual([404, 'model_not_found']);
    answer = { status: 400, body: '{"error":{"message":"not a reward model","code":"not_a_reward_model"}}' };
    await expect(new HttpRewardScorer({ baseUrl: base }).loadRewardModel('x', '/a/sft')).rejects.toThrow(
      'loading reward model x from /a/sft: HTTP 400: not a reward model',
    );
  });

  it('refuses a response with the wrong number of scores or shape', async () => {
    answer = { status: 200, body: JSON.stringify({ model: 'rm-1', scores: [0.5] }) };
    await expect(new HttpRewardScorer({ baseUrl: base }).score('rm-1', [good, bad])).rejects.toThrow(
      'rewards (rm-1): asked for 2 scores, got 1',
    );
    answer = { status: 200, body: JSON.stringify({ data: [{ score: 1 }] }) };
    await expect(new HttpRewardScorer({ baseUrl: base }).score('rm-1', [good])).rejects.toThrow(/rewards \(rm-1\): unexpected response/);
  });

  it('times out a slow call and names an unreachable server, keeping the cause', async () => {
    answer = { status: 200, body: JSON.stringify({ model: 'rm-1', scores: [1] }), delayMs: 500 };
    await expect(new HttpRewardScorer({ baseUrl: base, timeoutMs: 50 }).score('rm-1', [good])).rejects.toBeInstanceOf(LlmTimeoutError);
    const error = (await new HttpRewardScorer({ baseUrl: 'http://127.0.0.1:1/v1' })
      .score('rm-1', [good])
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('rewards (rm-1): the model server at http://127.0.0.1:1/v1/rewards cannot be reached');
    expect(error.cause).toMatchObject({ message: 'fetch failed' });
  });
});
