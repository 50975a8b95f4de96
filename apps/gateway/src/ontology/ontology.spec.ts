import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditLog } from '../auth/audit-log';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { applyHttpConventions } from '../http/problem-details';
import type { ForwardRequest, ServiceClient, UpstreamResponse } from '../upstream/service-client';
import { OntologyApiModule } from './ontology.module';

/** The ontology service as the gateway sees it: records each forwarded request and answers as the service would. */
class FakeOntology {
  readonly requests: (ForwardRequest & { service: string })[] = [];
  async forward(service: string, request: ForwardRequest): Promise<UpstreamResponse> {
    this.requests.push({ service, ...request });
    if (request.path.endsWith('/export'))
      return request.query?.['format'] === 'jsonld'
        ? { status: 200, contentType: 'application/ld+json', body: { '@graph': [] } }
        : { status: 200, contentType: 'text/turtle; charset=utf-8', body: '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n' };
    return { status: 200, contentType: 'application/json', body: { ok: true } };
  }
}

describe("the gateway's ontology routes", () => {
  let app: INestApplication;
  let base = '';
  const ontology = new FakeOntology();
  const keys = { viewer: '', curator: '', operator: '' };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule(), OntologyApiModule.forRoot(ontology as unknown as ServiceClient)],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/v1/contexts/northwind/ontology`;
    for (const role of Object.keys(keys) as (keyof typeof keys)[]) keys[role] = await issueKey(app, 'acme', role);
  });
  afterAll(() => app.close());
  beforeEach(() => (ontology.requests.length = 0));

  const call = async (method: string, path: string, key: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it("forwards every read to the ontology service in the caller's tenant, with its query", async () => {
    for (const path of [
      '',
      '/concepts?q=gift&role=object&limit=5&offset=10',
      '/concepts/c-gift',
      '/concepts/c-gift/neighbourhood?depth=2',
      '/versions/3',
      '/diff?from=1&to=2',
      '/conflicts?status=candidate',
    ])
      expect((await call('GET', path, keys.viewer)).status).toBe(200);
    expect(ontology.requests.map((r) => [r.service, r.method, r.path, r.tenant, r.query ?? {}])).toEqual([
      ['ontology', 'GET', '/v1/contexts/northwind/ontology', 'acme', {}],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/concepts', 'acme', { q: 'gift', role: 'object', limit: '5', offset: '10' }],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/concepts/c-gift', 'acme', {}],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/concepts/c-gift/neighbourhood', 'acme', { depth: '2' }],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/versions/3', 'acme', {}],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/diff', 'acme', { from: '1', to: '2' }],
      ['ontology', 'GET', '/v1/contexts/northwind/ontology/conflicts', 'acme', { status: 'candidate' }],
    ]);
  });

  it('refuses bad queries before the service sees them, naming the parameter', async () => {
    const bad = await call('GET', '/concepts?role=verb', keys.viewer);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('role');
    expect((await call('GET', '/concepts/c-gift/neighbourhood?depth=3', keys.viewer)).text).toContain('query parameter depth');
    expect((await call('GET', '/versions/0', keys.viewer)).text).toContain('path parameter version');
    expect((await call('GET', '/conflicts?status=open', keys.viewer)).status).toBe(400);
    expect((await call('GET', '/export?format=rdfxml', keys.viewer)).text).toContain('query parameter format');
    expect(ontology.requests).toEqual([]);
  });

  it('exports Turtle as text/turtle and JSON-LD as application/ld+json', async () => {
    const turtle = await call('GET', '/export', keys.viewer);
    expect(turtle).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/turtle/) });
    expect(turtle.text).toContain('@prefix skos:');
    const jsonld = await call('GET', '/export?format=jsonld', keys.viewer);
    expect(jsonld.type).toMatch(/^application\/ld\+json/);
    expect(JSON.parse(jsonld.text)).toEqual({ '@graph': [] });
  });

  it('lets curators decide conflicts (with the caller as who decided); viewers and operators may not', async () => {
    for (const key of [keys.viewer, keys.operator])
      expect((await call('POST', '/conflicts/conflictsWith:a>b', key, { decision: 'confirm' })).status).toBe(403);
    expect(ontology.requests).toEqual([]);
    expect((await call('POST', '/conflicts/conflictsWith:a>b', keys.curator, { decision: 'maybe' })).status).toBe(400);
    const ok = await call('POST', `/conflicts/${encodeURIComponent('conflictsWith:a>b')}`, keys.curator, {
      decision: 'dismiss',
      reason: 'no',
    });
    expect(ok.status).toBe(200);
    expect(ontology.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/contexts/northwind/ontology/conflicts/conflictsWith%3Aa%3Eb',
      tenant: 'acme',
      body: { decision: 'dismiss', reason: 'no', by: expect.stringMatching(/^key:/) },
    });
    expect((await app.get(AuditLog).read('acme', { action: 'ontology.conflict.decided', limit: 1 }))[0]).toMatchObject({
      target: 'relation:conflictsWith:a>b',
      after: { contextId: 'northwind', reason: 'no' },
    });
  });

  it('takes a SKOS import as text/turtle from those who may change contexts, and forwards it as { turtle }', async () => {
    const turtle = '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<urn:x> a skos:Concept ; skos:prefLabel "x"@en .\n';
    expect((await call('POST', '/import', keys.viewer, turtle, 'text/turtle')).status).toBe(403);
    const wrongType = await call('POST', '/import', keys.curator, { turtle }, 'application/json');
    expect(wrongType.status).toBe(415);
    expect(wrongType.text).toContain('text/turtle');
    const empty = await call('POST', '/import', keys.curator, '  \n', 'text/turtle');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('the Turtle is empty');
    expect(ontology.requests).toEqual([]);
    expect((await call('POST', '/import', keys.curator, turtle, 'text/turtle; charset=utf-8')).status).toBe(200);
    expect(ontology.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/contexts/northwind/ontology/import',
      tenant: 'acme',
      body: { turtle },
    });
  });
});
