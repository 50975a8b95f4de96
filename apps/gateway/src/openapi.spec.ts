import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EVENT_BUS } from '@studio/nest';
import { AdminController } from './admin/admin.controller';
import { memoryKeysModule } from './auth/testing';
import { ContextsController } from './contexts/contexts.controller';
import { DocumentsController } from './documents/documents.controller';
import { setUpOpenApi } from './gateway.service';
import { GATEWAY_LIMITS } from './limits';
import { OntologyController } from './ontology/ontology.controller';
import { RunsController } from './runs/runs.controller';
import { ServiceClient } from './upstream/service-client';

describe('OpenAPI document at /docs-json', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule()],
      controllers: [ContextsController, DocumentsController, RunsController, AdminController, OntologyController],
      providers: [
        { provide: EVENT_BUS, useValue: {} },
        { provide: GATEWAY_LIMITS, useValue: { maxDocumentBytes: 100, publishTimeoutMs: 1_000 } },
        {
          provide: ServiceClient,
          useValue: new ServiceClient({
            framer: 'http://127.0.0.1:1',
            ontology: 'http://127.0.0.1:1',
            instructor: 'http://127.0.0.1:1',
            auditor: 'http://127.0.0.1:1',
          }),
        },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setUpOpenApi(app);
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  it('documents every public operation, with request bodies', async () => {
    const doc = (await (await fetch(`${await app.getUrl()}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /v1/contexts',
        'POST /v1/contexts/{contextId}/documents',
        'GET /v1/contexts/{contextId}/documents/{documentId}/versions',
        'GET /v1/contexts/{contextId}/drift',
        'GET /v1/contexts/{contextId}/documents/{documentId}/diff',
        'POST /v1/contexts/{contextId}/datasets',
        'GET /v1/contexts/{contextId}/datasets/jobs/{jobId}',
        'GET /v1/contexts/{contextId}/datasets/{datasetVersionId}/report',
        'POST /v1/contexts/{contextId}/runs',
        'GET /v1/runs/{runId}',
        'GET /v1/runs/{runId}/audit',
        'POST /v1/runs/{runId}/audit',
        'GET /v1/audits/{auditRunId}',
        'GET /v1/me',
        'POST /v1/keys',
        'GET /v1/keys',
        'PATCH /v1/keys/{keyId}',
        'DELETE /v1/keys/{keyId}',
        'GET /v1/audit-log',
        'POST /v1/admin/tenants/{tenantId}/keys',
        'DELETE /v1/admin/tenants/{tenantId}',
        'GET /v1/contexts/{contextId}/ontology',
        'GET /v1/contexts/{contextId}/ontology/concepts',
        'GET /v1/contexts/{contextId}/ontology/concepts/{conceptId}',
        'GET /v1/contexts/{contextId}/ontology/concepts/{conceptId}/neighbourhood',
        'GET /v1/contexts/{contextId}/ontology/versions/{version}',
        'GET /v1/contexts/{contextId}/ontology/diff',
        'GET /v1/contexts/{contextId}/ontology/conflicts',
        'POST /v1/contexts/{contextId}/ontology/conflicts/{relationId}',
        'GET /v1/contexts/{contextId}/ontology/export',
        'POST /v1/contexts/{contextId}/ontology/import',
      ].sort(),
    );
    for (const path of [
      '/v1/contexts',
      '/v1/contexts/{contextId}/datasets',
      '/v1/contexts/{contextId}/runs',
      '/v1/contexts/{contextId}/ontology/conflicts/{relationId}',
      '/v1/contexts/{contextId}/ontology/import',
    ])
      expect(doc.paths[path]?.['post']?.requestBody).toBeDefined();
    expect(doc.paths['/v1/runs/{runId}/audit']?.['post']?.requestBody).toBeUndefined();
    const startRun = JSON.stringify(doc.paths['/v1/contexts/{contextId}/runs']?.['post']?.requestBody);
    for (const field of ['"method"', '"preferenceDatasetId"', '"parentRunId"', '"sft","reward","dpo"']) expect(startRun).toContain(field);
    const diff = doc.paths['/v1/contexts/{contextId}/documents/{documentId}/diff']?.['get'] as
      | {
          parameters: Array<{ name: string; in: string }>;
          responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
        }
      | undefined;
    expect(
      diff?.parameters
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['from', 'to', 'unchanged']);
    expect(Object.keys(diff?.responses['200']?.content?.['application/json']?.schema.properties ?? {})).toEqual(
      expect.arrayContaining(['summary', 'changes']),
    );
  });

  it('names what each operation needs (x-studio-access), and bearer authentication', async () => {
    const doc = (await (await fetch(`${await app.getUrl()}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { 'x-studio-access'?: Record<string, unknown>; security?: unknown[] }>>;
      components: { securitySchemes?: Record<string, unknown> };
    };
    const access = Object.fromEntries(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op['x-studio-access']]),
      ),
    );
    expect(Object.entries(access).filter(([, value]) => value === undefined)).toEqual([]);
    expect(access).toMatchObject({
      'POST /v1/contexts': { permission: 'contexts:write' },
      'GET /v1/runs/{runId}': { permission: 'studio:read' },
      'POST /v1/contexts/{contextId}/runs': { permission: 'runs:operate' },
      'GET /v1/me': { authenticated: true },
      'POST /v1/admin/tenants/{tenantId}/keys': { public: true },
      'DELETE /v1/keys/{keyId}': { permission: 'keys:manage' },
    });
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    expect(doc.paths['/v1/runs/{runId}']?.['get']?.security).toEqual([{ bearer: [] }]);
  });

  it('documents the audit state, and problem bodies for errors', async () => {
    const doc = (await (await fetch(`${await app.getUrl()}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    const audit = doc.paths['/v1/runs/{runId}/audit'];
    const state = JSON.stringify(audit?.['post']?.responses['202']?.content?.['application/json']?.schema);
    expect(state).toContain('"state"');
    expect(state).toContain('"nextAttemptAt"');
    expect(JSON.stringify(audit?.['get']?.responses['200'])).toContain('"queued","running","failed","completed"');
    const unavailable = JSON.stringify(doc.paths['/v1/contexts/{contextId}/documents']?.['post']?.responses['503']);
    for (const member of ['"type"', '"title"', '"status"', '"detail"']) expect(unavailable).toContain(member);
  });
});
