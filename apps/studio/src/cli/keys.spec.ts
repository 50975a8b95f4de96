import { createServer, type IncomingMessage, type Server } from 'node:http';
import { DEFAULT_GATEWAY_URL, parseKeysArgs, runKeysCommand } from './keys';

describe('studio keys: arguments', () => {
  it('reads each command, with the credential from the flags or the environment', () => {
    expect(parseKeysArgs(['create', '--name', 'ci', '--role', 'viewer', '--key', 'sk-x'], {})).toEqual({
      action: { command: 'create', name: 'ci', role: 'viewer', tenant: null },
      gateway: DEFAULT_GATEWAY_URL,
      credential: { kind: 'key', key: 'sk-x' },
      json: false,
    });
    expect(
      parseKeysArgs(['create', '--name', 'first', '--role', 'admin', '--tenant', 'acme'], {
        STUDIO_ADMIN_KEY: 'adm',
        STUDIO_GATEWAY_URL: 'https://studio.example/',
      }),
    ).toMatchObject({ action: { tenant: 'acme' }, credential: { kind: 'admin', adminKey: 'adm' }, gateway: 'https://studio.example' });
    expect(parseKeysArgs(['list', '--json'], { STUDIO_API_KEY: 'sk-env' })).toMatchObject({ action: { command: 'list' }, json: true });
    expect(parseKeysArgs(['revoke', '0123456789abcdef', '--key', 'k'], {}).action).toEqual({
      command: 'revoke',
      keyId: '0123456789abcdef',
    });
    expect(parseKeysArgs(['role', '0123456789abcdef', 'operator', '--key', 'k'], {}).action).toEqual({
      command: 'role',
      keyId: '0123456789abcdef',
      role: 'operator',
    });
  });

  it.each([
    [[], /missing command/],
    [['rotate'], /unknown command "keys rotate"/],
    [['create', '--role', 'viewer', '--key', 'k'], /missing --name/],
    [
      ['create', '--name', 'x', '--role', 'root', '--key', 'k'],
      /unknown role "root": expected one of viewer, curator, red-teamer, operator, admin/,
    ],
    [['create', '--name', 'x', '--role', 'admin', '--admin-key', 'a'], /--admin-key needs --tenant/],
    [['create', '--name', 'x', '--role', 'admin', '--tenant', 't', '--key', 'k'], /--tenant goes with --admin-key only/],
    [['list'], /missing --key/],
    [['list', '--admin-key', 'a'], /--admin-key creates a tenant's first key only/],
    [['revoke', 'abc', '--key', 'k'], /"abc" is not a key id/],
    [['role', '0123456789abcdef', '--key', 'k'], /missing role/],
    [['list', '--key', 'k', '--gateway', 'ftp://x'], /--gateway must be an http\(s\) URL/],
    [['list', '--key', 'k', '--colour'], /Unknown option '--colour'/],
  ])('refuses %j naming the problem', (argv, problem) => {
    expect(() => parseKeysArgs(argv as string[], {})).toThrow(problem);
  });
});

describe('studio keys: against a gateway', () => {
  const seen: { method: string; url: string; authorization?: string; adminKey?: string; body: string }[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers['x-admin-key'] ? { adminKey: String(req.headers['x-admin-key']) } : {}),
        body,
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  let gateway = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    gateway = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (seen.length = 0));

  async function run(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runKeysCommand(
      [...argv, '--gateway', gateway],
      {},
      {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
      },
    );
    return { code, stdout, stderr };
  }

  const view = {
    id: '0123456789abcdef',
    tenant: 'acme',
    name: 'ci',
    role: 'viewer',
    createdAt: '2026-12-01T07:00:00.000Z',
    createdBy: 'key:x',
    revokedAt: null,
    revokedBy: null,
  };

  it('creates a first key with the administration key, printing the key alone on stdout', async () => {
    answer = { status: 201, body: { ...view, role: 'admin', key: 'sk-studio-0123456789abcdef_secret' } };
    const out = await run(['create', '--name', 'first', '--role', 'admin', '--tenant', 'acme', '--admin-key', 'adm']);
    expect(out).toMatchObject({ code: 0, stdout: 'sk-studio-0123456789abcdef_secret\n' });
    expect(out.stderr).toMatch(/shown this once/);
    expect(seen).toEqual([
      { method: 'POST', url: '/v1/admin/tenants/acme/keys', adminKey: 'adm', body: '{"name":"first","role":"admin"}' },
    ]);
  });

  it('lists, revokes and re-roles with a tenant key', async () => {
    answer = {
      status: 200,
      body: { keys: [view, { ...view, id: 'fedcba9876543210', name: 'old', revokedAt: '2026-12-01T07:01:00.000Z' }] },
    };
    const listed = await run(['list', '--key', 'sk-k']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+CREATED\s+REVOKED$/);
    expect(listed.stdout).toContain('fedcba9876543210  old ');
    answer = { status: 200, body: { ...view, revokedAt: '2026-12-01T07:02:00.000Z' } };
    expect((await run(['revoke', view.id, '--key', 'sk-k'])).stdout).toBe(`revoked key ${view.id} "ci" (2026-12-01T07:02:00.000Z)\n`);
    answer = { status: 200, body: { ...view, role: 'operator' } };
    expect((await run(['role', view.id, 'operator', '--key', 'sk-k'])).stdout).toBe(`key ${view.id} "ci" now has role operator\n`);
    expect(seen.map((s) => `${s.method} ${s.url} ${s.authorization ?? ''} ${s.body}`)).toEqual([
      'GET /v1/keys Bearer sk-k ',
      `DELETE /v1/keys/${view.id} Bearer sk-k `,
      `PATCH /v1/keys/${view.id} Bearer sk-k {"role":"operator"}`,
    ]);
  });

  it("exits 1 with the gateway's problem detail, 2 on bad input", async () => {
    answer = {
      status: 403,
      body: { status: 403, detail: 'the role viewer does not have the permission keys:manage that this operation needs' },
    };
    const denied = await run(['list', '--key', 'sk-k']);
    expect(denied).toMatchObject({ code: 1, stdout: '' });
    expect(denied.stderr).toBe(
      'studio keys: the gateway answered 403: the role viewer does not have the permission keys:manage that this operation needs\n',
    );
    const bad = await run(['role', view.id, 'boss', '--key', 'sk-k']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^studio keys: unknown role "boss"/);
    expect(seen).toHaveLength(1);
  });

  it('names a gateway that does not answer', async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, '127.0.0.1', () => resolve((closed.address() as { port: number }).port)),
    );
    await new Promise((resolve) => closed.close(resolve));
    let stderr = '';
    const code = await runKeysCommand(
      ['list', '--key', 'k', '--gateway', `http://127.0.0.1:${port}`],
      {},
      {
        stdout: { write: () => undefined },
        stderr: { write: (t: string) => (stderr += t) },
      },
    );
    expect(code).toBe(1);
    expect(stderr).toBe(`studio keys: the gateway at http://127.0.0.1:${port} does not answer: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
});
