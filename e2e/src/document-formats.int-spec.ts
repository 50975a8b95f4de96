import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { issueKey, TEST_ADMIN_API_KEY } from './harness/keys';
import { freePort, ServiceProcess, serviceHeaders, serviceRunEnv, type ServiceName } from './harness/service-process';

/**
 * A PDF uploaded through the gateway, as processes against the real servers: the gateway converts
 * it to check it and publishes its original bytes over Kafka; the framer converts it again and
 * frames it. A malformed PDF is refused by the gateway with a problem naming it, and nothing
 * reaches the framer.
 */
describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'], 'document formats through the gateway', (urls) => {
  const run = uniqueName('fmt').replace(/-/g, '_');
  const artifactDir = mkdtempSync(join(tmpdir(), 'studio-fmt-artifacts-'));
  const processes: ServiceProcess[] = [];
  const at: Partial<Record<ServiceName, string>> = {};
  let key = '';

  async function start(name: ServiceName, extra: Record<string, string>): Promise<void> {
    const port = await freePort();
    const service = new ServiceProcess(name, { ...serviceRunEnv(run, name, port, urls.KAFKA_BROKERS), ...extra });
    processes.push(service);
    at[name] = `http://127.0.0.1:${port}`;
    // The gateway's readiness also asks services this test does not start: its health will do.
    const probe = name === 'gateway' ? '/health' : '/ready';
    await eventually(
      async () => {
        if (!service.running) throw new Error(`${name} exited\n${service.tail()}`);
        return (await fetch(`${at[name]}${probe}`)).status === 200;
      },
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${name} did not start: ${err.message}\n${service.tail()}`);
    });
  }

  beforeAll(async () => {
    await start('framer', {
      MONGO_URL: urls.MONGO_URL,
      MONGO_DB: `${run}_framer`,
      STUDIO_ARTIFACT_DIR: artifactDir,
      // The framer's generation queue (teacher synthesis) lives on Redis.
      REDIS_URL: urls.REDIS_URL,
    });
    const framer = at.framer as string;
    // Nothing of the gateway's own routes calls the other services; they are never reached.
    await start('gateway', {
      FRAMER_URL: framer,
      ONTOLOGY_URL: framer,
      INSTRUCTOR_URL: framer,
      AUDITOR_URL: framer,
      MONGO_URL: urls.MONGO_URL,
      MONGO_DB: `${run}_gateway`,
      REDIS_URL: urls.REDIS_URL,
      ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    });
    key = await issueKey(at.gateway as string, 'acme', 'curator');
  }, 120_000);

  afterAll(() => {
    for (const p of processes) p.kill('SIGKILL');
    rmSync(artifactDir, { recursive: true, force: true });
  });

  const upload = (contextId: string, body: unknown) =>
    fetch(`${at.gateway}/v1/contexts/${contextId}/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });

  it('frames a PDF uploaded through the gateway, keeping the PDF', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([612, 500]);
    page.drawText('Gifts', { x: 50, y: 440, size: 20, font });
    page.drawText('1.1 Employees must not accept gifts worth more than 50 EUR.', { x: 50, y: 400, size: 10, font });
    page.drawText('1.2 Employees may accept promotional items of nominal value.', { x: 50, y: 380, size: 10, font });
    const bytes = await pdf.save();
    const contextId = uniqueName('ctx');
    const res = await upload(contextId, {
      filename: 'gifts.pdf',
      mediaType: 'application/pdf',
      encoding: 'base64',
      content: Buffer.from(bytes).toString('base64'),
    });
    expect(res.status).toBe(202);
    const { documentId, sizeBytes } = (await res.json()) as { documentId: string; sizeBytes: number };
    expect(sizeBytes).toBe(bytes.length);
    const stored = await eventually(async () => {
      const r = await fetch(`${at.framer}/v1/contexts/${contextId}/documents/${documentId}`, { headers: serviceHeaders('acme') });
      const body = r.status === 200 ? ((await r.json()) as Record<string, unknown>) : null;
      return body?.['status'] === 'framed' || body?.['status'] === 'rejected' ? body : null;
    }, 60_000);
    expect(stored).toMatchObject({ id: documentId, filename: 'gifts.pdf', mediaType: 'application/pdf', status: 'framed', clauseCount: 2 });
  });

  it('refuses a malformed PDF with a 422 problem naming it, and nothing reaches the framer', async () => {
    const contextId = uniqueName('ctx');
    const res = await upload(contextId, {
      filename: 'broken.pdf',
      mediaType: 'application/pdf',
      encoding: 'base64',
      content: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntruncated').toString('base64'),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 422, problem: 'malformed-pdf', detail: expect.stringMatching(/not a readable PDF/) });
    await new Promise((r) => setTimeout(r, 1_000));
    // The framer knows nothing of this context: no settings, no document (404), rather than an empty list.
    const listed = await fetch(`${at.framer}/v1/contexts/${contextId}/documents`, { headers: serviceHeaders('acme') });
    expect(listed.status).toBe(404);
  });
});
