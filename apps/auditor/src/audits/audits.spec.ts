import { createServer, type Server } from 'node:http';
import { HttpAdapterLoader } from './http-adapter-loader';

describe('HttpAdapterLoader', () => {
  let server: Server;
  let base = '';
  const seen: unknown[] = [];
  const authorizations: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { lora_name: string };
        seen.push({ url: req.url, body: parsed });
        authorizations.push(req.headers.authorization);
        if (parsed.lora_name === 'loaded')
          res.writeHead(400).end('{"error":{"message":"The lora adapter loaded has already been loaded.","code":"lora_exists"}}');
        else if (parsed.lora_name === 'broken') res.writeHead(400).end('{"error":{"message":"no adapter_config.json"}}');
        else res.writeHead(200).end('"ok"');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  });
  afterAll(() => server.close());

  it('loads by name as vLLM does, accepting an adapter that is already loaded', async () => {
    const loader = new HttpAdapterLoader(base);
    await loader.loadAdapter('adapter-1', '/artifacts/runs/r/artifact');
    await loader.loadAdapter('loaded', '/x');
    expect(seen[0]).toEqual({ url: '/v1/load_lora_adapter', body: { lora_name: 'adapter-1', lora_path: '/artifacts/runs/r/artifact' } });
    await expect(loader.loadAdapter('broken', '/y')).rejects.toThrow(
      /loading adapter broken from \/y failed: HTTP 400 .*no adapter_config/,
    );
  });

  it("sends the model server's API key (LLM_API_KEY) as a Bearer token, and none when it has none", async () => {
    authorizations.length = 0;
    await new HttpAdapterLoader(base, 'model-key').loadAdapter('adapter-2', '/artifacts/a');
    await new HttpAdapterLoader(base).loadAdapter('adapter-3', '/artifacts/b');
    expect(authorizations).toEqual(['Bearer model-key', undefined]);
  });
});
