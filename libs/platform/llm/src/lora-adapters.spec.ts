import { createServer, type Server } from 'node:http';
import { LoraAdapterLoader } from './lora-adapters';

describe('LoraAdapterLoader', () => {
  const seen: { url: string; authorization: string | undefined; body: unknown }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"status":"ok"}' };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(raw) });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/`;
  });
  afterAll(() => server.close());

  it('posts the name and path to /load_lora_adapter with the API key', async () => {
    await new LoraAdapterLoader(base, { apiKey: 'secret-key' }).loadAdapter('adapter-1', '/artifacts/run-1/artifact');
    expect(seen.at(-1)).toEqual({
      url: '/v1/load_lora_adapter',
      authorization: 'Bearer secret-key',
      body: { lora_name: 'adapter-1', lora_path: '/artifacts/run-1/artifact' },
    });
  });

  it('takes an adapter the server has already loaded as loaded, and names the adapter and path of a refusal', async () => {
    answer = { status: 400, body: '{"error":{"message":"The lora adapter \'a\' has already been loaded.","code":"lora_exists"}}' };
    await expect(new LoraAdapterLoader(base).loadAdapter('a', '/p')).resolves.toBeUndefined();
    expect(seen.at(-1)?.authorization).toBeUndefined();
    answer = { status: 400, body: '{"error":{"message":"no adapter found","code":"invalid_lora_path"}}' };
    await expect(new LoraAdapterLoader(base).loadAdapter('b', '/missing')).rejects.toThrow(
      /^loading adapter b from \/missing failed: HTTP 400 .*invalid_lora_path/,
    );
  });

  it('names the server of an unreachable one, keeping the cause', async () => {
    const error = (await new LoraAdapterLoader('http://127.0.0.1:1/v1').loadAdapter('c', '/p').catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('loading adapter c into the model server at http://127.0.0.1:1/v1/load_lora_adapter failed');
    expect(error.cause).toMatchObject({ message: 'fetch failed' });
  });
});
