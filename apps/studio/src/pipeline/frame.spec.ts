import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentValidationError } from '@studio/framing';
import { frameDocument, publishFramedDocument, type FramingInput } from '@studio/pipeline';
import { fakeLlm, openHarness, POLICY, SEEDS, TENANT, topicsOf, type Harness } from './fixtures.spec-helper';

function input(overrides: Partial<FramingInput> = {}): FramingInput {
  return {
    contextId: 'acme-conduct',
    documentId: 'acme-cg',
    filename: 'policy.md',
    mediaType: 'text/markdown',
    content: new TextEncoder().encode(POLICY),
    values: null,
    seedsJsonl: SEEDS,
    seed: 7,
    heldOutRatio: 0.2,
    ...overrides,
  };
}

describe('framing stage', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
  });
  afterEach(() => h.close());

  it('frames a policy into clauses, statements, examples and a leak-free split, in memory', () => {
    const framed = frameDocument(input());
    expect(framed.tree.clauses.map((c) => c.numbering)).toEqual(expect.arrayContaining(['1.1', '1.2', '1.3', '2.1', '2.2', '2.3']));
    expect(framed.statements.length).toBeGreaterThanOrEqual(6);
    expect(framed.seeds).toHaveLength(1);
    expect(framed.version.train.length).toBeGreaterThan(0);
    expect(framed.version.heldOut.length).toBeGreaterThan(0);
    const trainQuestions = new Set(framed.version.train.map((e) => e.question.toLowerCase()));
    expect(framed.version.heldOut.filter((e) => trainQuestions.has(e.question.toLowerCase()))).toEqual([]);
    expect(framed.contentSha256).toMatch(/^[a-f0-9]{64}$/);
  });

  it('stores the document, clauses and an immutable dataset version and publishes uploaded → framed → published', async () => {
    const framed = frameDocument(input());
    const result = await publishFramedDocument(h, TENANT, framed);
    await h.bus.idle();

    expect(topicsOf(h)).toEqual(['policy.document.uploaded.v1', 'policy.document.framed.v1', 'dataset.version.published.v1']);
    expect(result.created).toBe(true);
    expect(await h.repos.clauses.count(TENANT)).toBe(framed.tree.clauses.length);
    const dataset = await h.repos.datasets.get(TENANT, framed.version.id);
    expect(dataset?.sha256).toBe(framed.version.sha256);
    const train = await h.artifacts.read(result.dataset.train.uri);
    const lines = train
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: Array<{ role: string }>; clause_ids: string[] });
    expect(lines).toHaveLength(framed.version.train.length);
    expect(lines[0]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(lines.every((l) => l.clause_ids.length > 0)).toBe(true);
    const published = h.events[2]?.event.data as { sha256: string; splits: { heldOut: { examples: number } } };
    expect(published.sha256).toBe(framed.version.sha256);
    expect(published.splits.heldOut.examples).toBe(framed.version.heldOut.length);
  });

  it('is idempotent: re-framing the same document gives the same clause ids and dataset hash, and no duplicates', async () => {
    const first = await publishFramedDocument(h, TENANT, frameDocument(input()));
    const second = await publishFramedDocument(h, TENANT, frameDocument(input()));
    expect(second.created).toBe(false);
    expect(second.dataset.id).toBe(first.dataset.id);
    expect(second.dataset.sha256).toBe(first.dataset.sha256);
    expect(second.clauses.map((c) => c.id)).toEqual(first.clauses.map((c) => c.id));
    expect(await h.repos.clauses.count(TENANT)).toBe(first.clauses.length);
    expect(await h.repos.datasets.count(TENANT)).toBe(1);
    expect(readdirSync(join(h.dir, 'datasets'))).toEqual([first.dataset.id]);
  });

  it('changes the dataset version when the document changes', async () => {
    const first = await publishFramedDocument(h, TENANT, frameDocument(input()));
    const edited = POLICY.replace('up to $50', 'up to $75');
    const second = await publishFramedDocument(h, TENANT, frameDocument(input({ content: new TextEncoder().encode(edited) })));
    expect(second.dataset.sha256).not.toBe(first.dataset.sha256);
    expect(await h.repos.datasets.count(TENANT)).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['binary', '\u0000\u0001\u0002binary'],
    ['without structure', 'hello'],
  ])('rejects an %s document before anything is stored', async (_name, text) => {
    expect(() => frameDocument(input({ content: new TextEncoder().encode(text) }))).toThrow(DocumentValidationError);
    expect(existsSync(join(h.dir, 'documents'))).toBe(false);
    expect(await h.repos.documents.count(TENANT)).toBe(0);
  });
});
