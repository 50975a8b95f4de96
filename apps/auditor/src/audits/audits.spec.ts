import { createServer, type Server } from 'node:http';
import { tenantId } from '@studio/ports';
import { HttpAdapterLoader } from './http-adapter-loader';
import { SnapshotRepository } from './read-only-repositories';

describe('SnapshotRepository', () => {
  const acme = tenantId('acme');
  const rows = [
    { id: 'c1', contextId: 'ctx-1', documentId: 'd1' },
    { id: 'c2', contextId: 'ctx-1', documentId: 'd2' },
    { id: 'c3', contextId: 'ctx-2', documentId: 'd3' },
  ];
  const repo = new SnapshotRepository('clauses', acme, rows);

  it('answers equality and `in` filters for its tenant only', async () => {
    expect((await repo.find(acme, { contextId: 'ctx-1' })).map((r) => r.id)).toEqual(['c1', 'c2']);
    expect((await repo.find(acme, { documentId: { in: ['d1', 'd3'] } })).map((r) => r.id)).toEqual(['c1', 'c3']);
    expect(await repo.find(tenantId('globex'), { contextId: 'ctx-1' })).toEqual([]);
    expect(await repo.get(acme, 'c2')).toEqual(rows[1]);
    expect(await repo.count(acme, { contextId: 'ctx-2' })).toBe(1);
    expect((await repo.find(acme, {}, { skip: 1, limit: 1 })).map((r) => r.id)).toEqual(['c2']);
  });

  it('sorts before it limits, so that a "first" or "latest" read is one', async () => {
    const dated = new SnapshotRepository('documents', acme, [
      { id: 'd1', receivedAt: '2026-01-02T00:00:00Z', n: 2 },
      { id: 'd2', receivedAt: '2026-01-03T00:00:00Z', n: 1 },
      { id: 'd3', receivedAt: '2026-01-01T00:00:00Z', n: 1 },
    ]);
    expect((await dated.find(acme, {}, { sort: { receivedAt: -1 }, limit: 1 })).map((r) => r.id)).toEqual(['d2']);
    expect((await dated.find(acme, {}, { sort: { receivedAt: 1 }, limit: 1 })).map((r) => r.id)).toEqual(['d3']);
    expect((await dated.find(acme, {}, { sort: { n: 1, receivedAt: -1 } })).map((r) => r.id)).toEqual(['d2', 'd3', 'd1']);
  });

  it('refuses writes: the owning service writes its records', async () => {
    await expect(repo.upsert()).rejects.toThrow(/clauses belong to another service/);
    await expect(repo.delete()).rejects.toThrow(/never deletes/);
  });
});

describe('HttpAdapterLoader', () => {
  let server: Server;
  let base = '';
  const seen: unknown[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { lora_name: string };
        seen.push({ url: req.url, body: parsed });
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
});
