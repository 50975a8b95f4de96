import { createServer, type Server } from 'node:http';
import { ModelServerRewardScorer } from './reward-scorer';

describe('ModelServerRewardScorer', () => {
  let server: Server;
  let base = '';
  const requests: Array<{ url: string | undefined; auth: unknown; body: unknown }> = [];
  let reply: (body: { model?: string; conversations?: unknown[] }) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { model?: string; conversations?: unknown[] };
        requests.push({ url: req.url, auth: req.headers['authorization'], body });
        const answer = req.url === '/v1/load_reward_model' ? { status: 200, body: { loaded: true } } : reply(body);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const conversation = (answer: string) => [
    { role: 'user' as const, content: 'May I keep the gift?' },
    { role: 'assistant' as const, content: answer },
  ];

  it('loads a reward model by name and path, then scores conversations with it, with the API key', async () => {
    reply = (body) => ({ status: 200, body: { model: body.model, scores: (body.conversations ?? []).map((_, i) => i - 0.5) } });
    const scorer = new ModelServerRewardScorer(base, { apiKey: 'k-1' });
    await scorer.loadRewardModel('reward-1', '/artifacts/run-r/adapter');
    expect(await scorer.score('reward-1', [conversation('No.'), conversation('Yes.')])).toEqual([-0.5, 0.5]);
    expect(requests.map((r) => [r.url, r.auth])).toEqual([
      ['/v1/load_reward_model', 'Bearer k-1'],
      ['/v1/rewards', 'Bearer k-1'],
    ]);
    expect(requests[0]?.body).toEqual({ name: 'reward-1', path: '/artifacts/run-r/adapter' });
    expect(requests[1]?.body).toEqual({ model: 'reward-1', conversations: [conversation('No.'), conversation('Yes.')] });
  });

  it('fails naming the problem: a refusal, a count that does not match, a malformed answer, no server', async () => {
    const scorer = new ModelServerRewardScorer(base);
    reply = () => ({ status: 404, body: { error: 'reward model reward-9 is not loaded' } });
    await expect(scorer.score('reward-9', [conversation('No.')])).rejects.toThrow(
      /scoring 1 answers with reward model reward-9 failed: HTTP 404 .*not loaded/,
    );
    reply = () => ({ status: 200, body: { model: 'reward-1', scores: [1, 2] } });
    await expect(scorer.score('reward-1', [conversation('No.')])).rejects.toThrow(
      'the model server returned 2 rewards for 1 answers of reward-1',
    );
    reply = () => ({ status: 200, body: { model: 'reward-1', scores: ['high'] } });
    await expect(scorer.score('reward-1', [conversation('No.')])).rejects.toThrow(/not in the expected shape: scores\.0: /);
    await expect(new ModelServerRewardScorer('http://127.0.0.1:47/v1').loadRewardModel('r', '/p')).rejects.toThrow(
      'loading reward model r from /p at the model server http://127.0.0.1:47/v1/load_reward_model failed',
    );
  });
});
