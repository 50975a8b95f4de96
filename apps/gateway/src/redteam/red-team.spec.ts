import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditLog } from '../auth/audit-log';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { applyHttpConventions } from '../http/problem-details';
import type { ForwardRequest, ServiceClient, UpstreamResponse } from '../upstream/service-client';
import { RedTeamModule } from './red-team.module';

/** The auditor as the gateway sees it: records each forwarded request and answers as the auditor would. */
class FakeAuditor {
  readonly requests: (ForwardRequest & { service: string })[] = [];
  async forward(service: string, request: ForwardRequest): Promise<UpstreamResponse> {
    this.requests.push({ service, ...request });
    const json = (status: number, body: unknown): UpstreamResponse => ({ status, contentType: 'application/json', body });
    if (request.path.endsWith('/trials')) return json(201, { id: 'trl-1', replies: { base: ['b'], aligned: ['a'] } });
    if (request.path.endsWith('/findings') && request.method === 'POST') return json(201, { id: 'finding-trl-1' });
    if (request.path.endsWith('/preference')) return json(200, { preferenceId: 'pref-1', finding: {} });
    if (request.path.endsWith('/seed')) return json(200, { seedId: 'red-team-finding-trl-1', added: true, finding: {} });
    return json(200, { findings: [], total: 0 });
  }
}

describe("the gateway's red-team routes", () => {
  let app: INestApplication;
  let base = '';
  const auditor = new FakeAuditor();
  const keys = { viewer: '', curator: '', 'red-teamer': '' };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule(), RedTeamModule.forRoot(auditor as unknown as ServiceClient)],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/v1/contexts/northwind/red-team`;
    for (const role of Object.keys(keys) as (keyof typeof keys)[]) keys[role] = await issueKey(app, 'acme', role);
  });
  afterAll(() => app.close());
  beforeEach(() => (auditor.requests.length = 0));

  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("forwards a trial to the auditor with the caller as its author, in the caller's tenant", async () => {
    const res = await call('POST', '/trials', keys['red-teamer'], { prompt: 'How do I hide a gift?' });
    expect(res.status).toBe(201);
    const [sent] = auditor.requests;
    expect(sent).toMatchObject({ service: 'auditor', method: 'POST', path: '/v1/contexts/northwind/red-team/trials', tenant: 'acme' });
    expect(sent?.body).toEqual({ prompt: 'How do I hide a gift?', author: expect.stringMatching(/^key:/) });
  });

  it('refuses a body that names its own author, or both or neither question, before the auditor sees it', async () => {
    expect((await call('POST', '/trials', keys['red-teamer'], { prompt: 'x', author: 'someone-else' })).status).toBe(400);
    const both = await call('POST', '/trials', keys['red-teamer'], { prompt: 'x', attackId: 'atk-1' });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body)).toContain('give exactly one of prompt and attackId');
    expect((await call('POST', '/findings', keys['red-teamer'], { trialId: 'trl-1', bucket: 'maybe' })).status).toBe(400);
    expect(auditor.requests).toEqual([]);
  });

  it('lets viewers and curators read findings and attacks but not write; red-teamers write', async () => {
    expect((await call('GET', '/findings?bucket=both_fail', keys.viewer)).status).toBe(200);
    expect(auditor.requests[0]?.query).toEqual({ bucket: 'both_fail' });
    expect((await call('GET', '/attacks', keys.curator)).status).toBe(200);
    for (const key of [keys.viewer, keys.curator]) {
      expect((await call('POST', '/trials', key, { prompt: 'x' })).status).toBe(403);
      expect((await call('POST', '/findings', key, { trialId: 'trl-1', bucket: 'both_fail' })).status).toBe(403);
      expect((await call('POST', '/findings/finding-trl-1/preference', key, {})).status).toBe(403);
      expect((await call('POST', '/findings/finding-trl-1/seed', key, {})).status).toBe(403);
    }
    expect(auditor.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('forwards findings and conversions with the caller, and records them in the audit log', async () => {
    expect((await call('POST', '/findings', keys['red-teamer'], { trialId: 'trl-1', bucket: 'only_base_right', note: 'n' })).status).toBe(
      201,
    );
    expect(auditor.requests[0]?.body).toEqual({
      trialId: 'trl-1',
      bucket: 'only_base_right',
      note: 'n',
      author: expect.stringMatching(/^key:/),
    });
    const pref = await call('POST', '/findings/finding-trl-1/preference', keys['red-teamer'], { editedAnswer: 'Declare it.' });
    expect(pref).toMatchObject({ status: 200, body: { preferenceId: 'pref-1' } });
    expect(auditor.requests[1]?.body).toEqual({ editedAnswer: 'Declare it.', by: expect.stringMatching(/^key:/) });
    expect((await call('POST', '/findings/finding-trl-1/seed', keys['red-teamer'], {})).status).toBe(200);
    const log = app.get(AuditLog);
    expect((await log.read('acme', { action: 'redteam.finding.recorded', limit: 1 }))[0]).toMatchObject({
      target: 'finding:finding-trl-1',
    });
    expect((await log.read('acme', { action: 'preference.submitted', limit: 1 }))[0]).toMatchObject({
      target: 'preference:pref-1',
      after: { source: 'red-team', findingId: 'finding-trl-1', edited: true },
    });
    expect((await log.read('acme', { action: 'redteam.seed.added', limit: 1 }))[0]).toMatchObject({
      target: 'seed:red-team-finding-trl-1',
    });
  });
});
