import { Api, ApiError, errorDetail, query } from './api';

function fakeFetch(answer: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer(url, init);
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

describe('Api', () => {
  it('sends the credential as a Bearer token and JSON bodies', async () => {
    const { calls, fetchImpl } = fakeFetch(() => new Response(JSON.stringify({ id: 'x' }), { status: 201 }));
    const api = new Api({ token: () => 'sk-studio-k1_secret', fetchImpl });
    expect(await api.post('/v1/contexts', { id: 'x' })).toEqual({ id: 'x' });
    const headers = calls[0]?.init.headers as Record<string, string>;
    expect(headers['authorization']).toBe('Bearer sk-studio-k1_secret');
    expect(headers['content-type']).toBe('application/json');
    expect(calls[0]?.init.body).toBe('{"id":"x"}');
  });

  it('turns problem JSON into an ApiError with the detail, and reports a 401', async () => {
    const { fetchImpl } = fakeFetch(
      (url) =>
        new Response(
          JSON.stringify({
            status: url.endsWith('me') ? 401 : 403,
            detail: url.endsWith('me') ? 'the API key was revoked' : 'role viewer lacks datasets:curate',
          }),
          {
            status: url.endsWith('me') ? 401 : 403,
            headers: { 'content-type': 'application/problem+json' },
          },
        ),
    );
    const unauthorized: ApiError[] = [];
    const api = new Api({ token: () => 't', fetchImpl, onUnauthorized: (e) => unauthorized.push(e) });
    await expect(api.post('/v1/x/reviews', {})).rejects.toMatchObject({ status: 403, detail: 'role viewer lacks datasets:curate' });
    expect(unauthorized).toEqual([]);
    await expect(api.get('/v1/me')).rejects.toThrow('401: the API key was revoked');
    expect(unauthorized.map((e) => e.status)).toEqual([401]);
  });

  it('says when the gateway cannot be reached', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(new Api({ token: () => null, fetchImpl }).get('/v1/me')).rejects.toMatchObject({
      status: 0,
      detail: expect.stringMatching(/could not be reached \(fetch failed\)/),
    });
  });

  it('reads a server-sent event stream with the Authorization header', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const enc = new TextEncoder();
        controller.enqueue(enc.encode('event: progress\ndata: {"step":1}\n\nevent: prog'));
        controller.enqueue(enc.encode('ress\ndata: {"step":2}\n\n'));
        controller.close();
      },
    });
    const { calls, fetchImpl } = fakeFetch(() => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
    const events: string[] = [];
    await new Api({ token: () => 'tok', fetchImpl }).stream(
      '/v1/runs/r/events',
      (e) => events.push(`${e.event}:${e.data}`),
      new AbortController().signal,
    );
    expect(events).toEqual(['progress:{"step":1}', 'progress:{"step":2}']);
    expect((calls[0]?.init.headers as Record<string, string>)['authorization']).toBe('Bearer tok');
  });

  it('reads error words from problem, Nest and OpenAI shapes', () => {
    expect(errorDetail({ detail: 'd', message: 'm' }, 'f')).toBe('d');
    expect(errorDetail({ message: ['a', 'b'] }, 'f')).toBe('a; b');
    expect(errorDetail({ error: { message: 'model not found' } }, 'f')).toBe('model not found');
    expect(errorDetail('text', 'f')).toBe('f');
  });

  it('builds query strings without empty parameters', () => {
    expect(query({ split: 'train', kind: '', offset: 0, limit: null })).toBe('?split=train&offset=0');
    expect(query({})).toBe('');
  });
});
