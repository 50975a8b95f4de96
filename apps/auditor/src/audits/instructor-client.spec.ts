import { createServer, type Server } from 'node:http';
import { InstructorClient } from './instructor-client';

const TOKEN = 'auditor-test-service-token-0123456789abcdef';

describe('InstructorClient.latestRewardModel', () => {
  let server: Server;
  let base = '';
  const seen: Array<{ url: string | undefined; tenant: unknown; token: unknown }> = [];
  let answer: { status: number; body: unknown } = { status: 404, body: { message: 'none' } };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, tenant: req.headers['x-tenant-id'], token: req.headers['x-studio-service-token'] });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => new InstructorClient(base, TOKEN);

  it("asks the instructor for the context's newest reward model, with the tenant and the service credential", async () => {
    answer = {
      status: 200,
      body: {
        id: 'reward-3',
        runId: 'run-reward-3',
        artifactDir: '/artifacts/runs/run-reward-3',
        method: 'reward',
        metrics: { pairwise_accuracy: 0.8 },
      },
    };
    expect(await client().latestRewardModel('acme', 'ctx/1')).toEqual({
      id: 'reward-3',
      runId: 'run-reward-3',
      artifactDir: '/artifacts/runs/run-reward-3',
    });
    expect(seen.at(-1)).toEqual({ url: '/v1/contexts/ctx%2F1/reward-models/latest', tenant: 'acme', token: TOKEN });
  });

  it('answers null when the context has none (404)', async () => {
    answer = { status: 404, body: { message: 'no completed reward model' } };
    expect(await client().latestRewardModel('acme', 'ctx-1')).toBeNull();
  });

  it('throws naming the problem on any other answer, a malformed one, or no answer', async () => {
    answer = { status: 503, body: { message: 'database down' } };
    await expect(client().latestRewardModel('acme', 'ctx-1')).rejects.toThrow(
      /instructor answered HTTP 503 for the reward model of ctx-1: .*database down/,
    );
    answer = { status: 200, body: { id: 'reward-3' } };
    await expect(client().latestRewardModel('acme', 'ctx-1')).rejects.toThrow(/not in the expected shape: runId: .*; artifactDir: /);
    await expect(new InstructorClient('http://127.0.0.1:47', TOKEN).latestRewardModel('acme', 'ctx-1')).rejects.toThrow(
      /reading the reward model of ctx-1 from the instructor at http:\/\/127\.0\.0\.1:47\/v1\/contexts\/ctx-1\/reward-models\/latest failed/,
    );
  });
});
