import { DatabaseSync } from 'node:sqlite';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { parseSeeds } from '@studio/framing';
import { SqliteRepository } from '@studio/inproc';
import { CLAUSES } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { CLAUSES_REPOSITORY } from '../framer.ports';
import { CONTEXTS, CONTEXTS_REPOSITORY, thresholdsFor, type ContextSettings } from './context-settings';
import { ContextsController } from './contexts.controller';

const acme = tenantId('acme');

/** POST /v1/contexts/{contextId}/seeds: the seed path a red-team finding takes into the next dataset version. */
describe("the framer's seed path", () => {
  const db = new DatabaseSync(':memory:');
  const contexts = new SqliteRepository(db, CONTEXTS);
  const clauses = new SqliteRepository(db, CLAUSES);
  let app: INestApplication;
  let base = '';

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ContextsController],
      providers: [
        { provide: CONTEXTS_REPOSITORY, useValue: contexts },
        { provide: CLAUSES_REPOSITORY, useValue: clauses },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    const context = (id: string, seeds: string | null): ContextSettings => ({
      id,
      name: id,
      values: null,
      thresholds: thresholdsFor({ values: null }),
      seeds,
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:00.000Z',
    });
    await contexts.upsert(acme, context('northwind', '{"id":"s1","question":"Q?","answer":"A.","clause_refs":["3.1"],"kind":"qa"}'));
    await contexts.upsert(
      acme,
      context(
        'yaml',
        'version: 3\ndomain: x\ncreated_by: y\nseed_examples:\n  - context: c\n    questions_and_answers:\n      - question: q\n        answer: a\n',
      ),
    );
    await clauses.upsert(acme, {
      id: 'doc-1:3.1.b:abc',
      contextId: 'northwind',
      documentId: 'doc-1',
      position: 0,
      numbering: '3.1(b)',
      title: null,
      text: 'Employees must not accept cash.',
    });
  });
  afterAll(async () => app?.close());

  const post = async (contextId: string, body: unknown, tenant = 'acme') => {
    const res = await fetch(`${base}/v1/contexts/${contextId}/seeds`, {
      method: 'POST',
      headers: { 'x-tenant-id': tenant, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { message?: string; seedId?: string; added?: boolean } };
  };
  const seed = { id: 'red-team-f1', question: 'May I take cash?', answer: 'No (§3.1(b)).', clause_refs: ['§3.1(b)'], kind: 'qa' };

  it('adds a seed after the existing ones (201), and the same seed again adds nothing (200)', async () => {
    expect(await post('northwind', seed)).toEqual({ status: 201, body: { seedId: 'red-team-f1', added: true } });
    const stored = await contexts.get(acme, 'northwind');
    expect(parseSeeds(stored?.seeds ?? '').map((s) => s.id)).toEqual(['s1', 'red-team-f1']);
    expect(await post('northwind', seed)).toEqual({ status: 200, body: { seedId: 'red-team-f1', added: false } });
  });

  it('refuses, naming the problem: an unknown clause (422), a taken id or qna.yaml seeds (409), another tenant (404), a bad seed (400)', async () => {
    const unknown = await post('northwind', { ...seed, id: 'red-team-f2', clause_refs: ['9.9'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toMatch(/"9\.9" names no current clause of context "northwind"/);
    const taken = await post('northwind', { ...seed, answer: 'Other.' });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toMatch(/another seed with id "red-team-f1"/);
    await clauses.upsert(acme, {
      id: 'doc-2:1:abc',
      contextId: 'yaml',
      documentId: 'doc-2',
      position: 0,
      numbering: '1',
      title: null,
      text: 'x',
    });
    const yaml = await post('yaml', { ...seed, clause_refs: ['1'] });
    expect(yaml.status).toBe(409);
    expect(yaml.body.message).toMatch(/InstructLab qna\.yaml/);
    expect((await post('northwind', seed, 'globex')).status).toBe(404);
    expect((await post('northwind', { ...seed, kind: 'essay' })).status).toBe(400);
    expect((await post('northwind', { ...seed, extra: 1 })).status).toBe(400);
  });
});
