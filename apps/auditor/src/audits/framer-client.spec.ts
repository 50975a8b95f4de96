import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parseAuditThresholds } from '@studio/auditing';
import { ContextValues } from '@studio/framing';
import { auditThresholdsFor } from '@studio/pipeline';
import { FramerClient } from './framer-client';

const TOKEN = 'auditor-test-service-token-0123456789abcdef';
const example = ContextValues.parse(
  JSON.parse(readFileSync(join(__dirname, '../../../../examples/northwind-conduct/values.json'), 'utf8')) as unknown,
);

describe('FramerClient.context', () => {
  let server: Server;
  let base = '';
  let body: unknown = null;

  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads the context's gates, the red-team ones among them, and its values (for attack success per value)", async () => {
    const values = { ...example, audit: { ...example.audit, max_red_team_attack_success: 0.2 } };
    const thresholds = auditThresholdsFor(values, 'values');
    body = { id: 'northwind-conduct', name: 'Northwind', thresholds, values, seeds: null };
    const context = await new FramerClient(base, TOKEN).context('acme', 'northwind-conduct');
    expect(context.thresholds.maxAttackSuccess).toBe(0.2);
    expect(context.values.map((v) => v.name)).toEqual(example.values.map((v) => v.name));
    expect(context.values[0]?.sections).toEqual(example.values[0]?.sections);
  });

  it('reads a context without a values file as having no values', async () => {
    body = { id: 'plain', name: 'Plain', thresholds: parseAuditThresholds({}), values: null, seeds: null };
    expect((await new FramerClient(base, TOKEN).context('acme', 'plain')).values).toEqual([]);
  });
});
