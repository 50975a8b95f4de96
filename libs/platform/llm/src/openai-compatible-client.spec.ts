import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatChunk } from '@studio/ports';
import { LlmError, LlmTimeoutError, OpenAiCompatibleClient, retryAfterMs } from './openai-compatible-client';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}
type Handler = (res: ServerResponse, seen: Seen) => void | Promise<void>;

/** A real HTTP server imitating an OpenAI-compatible API; each route answers with its handlers in turn (the last repeats). */
class FakeOpenAiServer {
  readonly seen: Seen[] = [];
  private readonly routes = new Map<string, Handler[]>();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      this.seen.push(seen);
      const handlers = this.routes.get(`${seen.method} ${seen.path}`);
      const handler = handlers && (handlers.length > 1 ? handlers.shift() : handlers[0]);
      if (!handler) return json(res, 404, { error: { message: `no route ${seen.method} ${seen.path}`, type: 'not_found' } });
      void handler(res, seen);
    });
  });

  on(route: string, ...handlers: Handler[]): this {
    this.routes.set(route, handlers);
    return this;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const completion = (content: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'granite-aligned',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
});
const ok: Handler = (res) => json(res, 200, completion('Gifts must be declined.'));
const request = { model: 'granite-aligned', messages: [{ role: 'user' as const, content: 'May I accept a gift?' }], temperature: 0 };
const fastRetry = { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OpenAiCompatibleClient', () => {
  let server: FakeOpenAiServer;
  let baseUrl: string;
  let client: OpenAiCompatibleClient;

  beforeEach(async () => {
    server = new FakeOpenAiServer();
    baseUrl = await server.start();
    client = new OpenAiCompatibleClient({ baseUrl, apiKey: 'sk-test', retry: fastRetry, timeoutMs: 5_000 });
  });
  afterEach(() => server.stop());

  it('sends a chat completion and maps the answer', async () => {
    server.on('POST /v1/chat/completions', ok);
    const result = await client.chat({ ...request, max_tokens: 64, stop: ['\n\n'] });
    expect(result).toEqual({
      id: 'chatcmpl-1',
      model: 'granite-aligned',
      content: 'Gifts must be declined.',
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 3 },
    });
    const [seen] = server.seen;
    expect(seen?.headers['authorization']).toBe('Bearer sk-test');
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(seen?.body).toEqual({ ...request, max_tokens: 64, stop: ['\n\n'], stream: false });
  });

  it('streams chat deltas from server-sent events until [DONE]', async () => {
    server.on('POST /v1/chat/completions', async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (content: string | null, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;
      res.write(': keep-alive comment\n\n');
      res.write(event('', null).replace('"content":""', '"role":"assistant","content":""'));
      const second = event('Gifts ', null);
      // One event split across two writes, and an event with CRLF line ends.
      res.write(second.slice(0, 20));
      await sleep(20);
      res.write(second.slice(20));
      res.write(event('must be declined.', null).replace(/\n/g, '\r\n'));
      res.write(event(null, 'stop'));
      res.write('data: [DONE]\n\n');
      res.end();
    });
    const chunks: ChatChunk[] = [];
    for await (const chunk of client.chatStream(request)) chunks.push(chunk);
    expect(chunks).toEqual([
      { delta: '', finishReason: null },
      { delta: 'Gifts ', finishReason: null },
      { delta: 'must be declined.', finishReason: null },
      { delta: '', finishReason: 'stop' },
    ]);
    expect(server.seen[0]?.body).toMatchObject({ stream: true });
  });

  it('surfaces an error event inside a stream with its message', async () => {
    server.on('POST /v1/chat/completions', (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify({ error: { message: 'adapter "bcg" is not loaded', type: 'invalid_request_error' } })}\n\n`);
    });
    const consume = async () => {
      for await (const _ of client.chatStream(request)) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow('adapter "bcg" is not loaded');
  });

  it('fails a stream that ends without [DONE]', async () => {
    server.on('POST /v1/chat/completions', (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Gif' }, finish_reason: null }] })}\n\n`);
    });
    const chunks: string[] = [];
    const consume = async () => {
      for await (const c of client.chatStream(request)) chunks.push(c.delta);
    };
    await expect(consume()).rejects.toThrow('stream ended without [DONE]');
    expect(chunks).toEqual(['Gif']);
  });

  it('returns embeddings in input order', async () => {
    server.on('POST /v1/embeddings', (res) =>
      json(res, 200, {
        object: 'list',
        model: 'embedder',
        data: [
          { object: 'embedding', index: 1, embedding: [0, 1] },
          { object: 'embedding', index: 0, embedding: [1, 0] },
        ],
      }),
    );
    expect(await client.embed('embedder', ['first', 'second'])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(server.seen[0]?.body).toEqual({ model: 'embedder', input: ['first', 'second'], encoding_format: 'float' });
  });

  it('lists models', async () => {
    server.on('GET /v1/models', (res) =>
      json(res, 200, {
        object: 'list',
        data: [
          { id: 'base', object: 'model' },
          { id: 'bcg-adapter', object: 'model' },
        ],
      }),
    );
    expect(await client.listModels()).toEqual(['base', 'bcg-adapter']);
  });

  it('retries a 429 after the Retry-After the server asks for, then succeeds', async () => {
    server.on(
      'POST /v1/chat/completions',
      (res) => json(res, 429, { error: { message: 'rate limited', type: 'rate_limit_error' } }, { 'retry-after': '1' }),
      ok,
    );
    const started = Date.now();
    const result = await client.chat(request);
    expect(result.content).toBe('Gifts must be declined.');
    expect(server.seen).toHaveLength(2);
    // The backoff alone would be at most 20 ms: the wait came from Retry-After.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries 5xx with backoff and reports the last error with its status when attempts run out', async () => {
    server.on('POST /v1/chat/completions', (res) => json(res, 503, { error: { message: 'model is loading', type: 'server_error' } }));
    const error = await client.chat(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ status: 503, type: 'server_error' });
    expect((error as Error).message).toBe('chat completion (granite-aligned): HTTP 503: model is loading (gave up after 3 attempts)');
    expect(server.seen).toHaveLength(3);
  });

  it('does not retry a 400 and carries the server message, type and code', async () => {
    server.on('POST /v1/chat/completions', (res) =>
      json(res, 400, { error: { message: "'messages' must not be empty", type: 'invalid_request_error', code: 'empty_messages' } }),
    );
    await expect(client.chat(request)).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'empty_messages',
      message: "chat completion (granite-aligned): HTTP 400: 'messages' must not be empty",
    });
    expect(server.seen).toHaveLength(1);
  });

  it('reports a non-JSON error body as text', async () => {
    server.on('GET /v1/models', (res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('Unauthorized');
    });
    await expect(client.listModels()).rejects.toMatchObject({ status: 401, message: 'list models: HTTP 401: Unauthorized' });
    expect(server.seen).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    server.on(
      'POST /v1/embeddings',
      (res) => void res.socket?.destroy(),
      (res) => json(res, 200, { data: [{ index: 0, embedding: [1] }] }),
    );
    expect(await client.embed('embedder', ['x'])).toEqual([[1]]);
    expect(server.seen).toHaveLength(2);
  });

  it('times out a call that gets no answer, without retrying it', async () => {
    server.on('POST /v1/chat/completions', () => undefined);
    const started = Date.now();
    const error = await client.chat(request, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmTimeoutError);
    expect((error as Error).message).toBe('chat completion (granite-aligned) timed out after 150 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.seen).toHaveLength(1);
  });

  it('times out a stream that stalls', async () => {
    server.on('POST /v1/chat/completions', (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Gif' }, finish_reason: null }] })}\n\n`);
    });
    const consume = async () => {
      for await (const _ of client.chatStream(request, { timeoutMs: 200 })) {
        // drain
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(LlmTimeoutError);
  });

  it("stops at once when the caller's signal aborts, with the caller's reason", async () => {
    server.on('POST /v1/chat/completions', () => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 50);
    await expect(client.chat(request, { signal: controller.signal })).rejects.toThrow('user cancelled');
    expect(server.seen).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('Thu, 01 Jan 2026 00:00:00 GMT'))).toBe(10_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
