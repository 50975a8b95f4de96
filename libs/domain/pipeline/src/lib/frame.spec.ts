import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENT_UPLOADED_V1, type CloudEvent, type DatasetVersionPublishedV1 } from '@studio/contracts';
import { DocumentValidationError } from '@studio/framing';
import { fakeLlm, frameAndPublish, openHarness, POLICY, SEEDS, TENANT, topicsOf, type Harness } from './fixtures.spec-helper';
import {
  datasetVersionOf,
  DocumentRejectedError,
  documentUploadedEvent,
  frameDocument,
  frameUploadedDocument,
  generateDatasetVersion,
  PipelineNotFoundError,
  readClauses,
  readFramingArtifact,
  uploadDocument,
  uploadedBytes,
  type FramingInput,
} from './frame';

function input(overrides: Partial<FramingInput> = {}): FramingInput {
  return {
    contextId: 'acme-conduct',
    documentId: 'acme-cg',
    mediaType: 'text/markdown',
    content: new TextEncoder().encode(POLICY),
    values: null,
    seedsJsonl: SEEDS,
    seed: 7,
    heldOutRatio: 0.2,
    ...overrides,
  };
}

const upload = (content: string) => ({
  tenant: TENANT,
  contextId: 'acme-conduct',
  filename: 'policy.md',
  mediaType: 'text/markdown' as const,
  content: new TextEncoder().encode(content),
  maxBytes: 100_000,
  source: '/test',
});

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
  });

  it('stores the document, clauses and an immutable dataset version and publishes uploaded → framed → published', async () => {
    const { framed, dataset } = await frameAndPublish(h);
    await h.bus.idle();
    const inMemory = frameDocument(input());

    expect(topicsOf(h)).toEqual(['policy.document.uploaded.v1', 'policy.document.framed.v1', 'dataset.version.published.v1']);
    expect(dataset.created).toBe(true);
    expect(framed.document.status).toBe('framed');
    expect(await h.repos.clauses.count(TENANT)).toBe(inMemory.tree.clauses.length);
    expect(dataset.dataset.sha256).toBe(inMemory.version.sha256);
    const train = await h.artifacts.read(dataset.dataset.train.uri);
    const lines = train
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: Array<{ role: string }>; clause_ids: string[] });
    expect(lines).toHaveLength(inMemory.version.train.length);
    expect(lines[0]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(lines.every((l) => l.clause_ids.length > 0)).toBe(true);
    const published = h.events[2]?.event.data as { sha256: string; documentSha256: string; splits: { heldOut: { examples: number } } };
    expect(published.sha256).toBe(inMemory.version.sha256);
    expect(published.documentSha256).toBe(framed.document.sha256);
    expect(published.splits.heldOut.examples).toBe(inMemory.version.heldOut.length);
    // A consumer's copy of the version, from the event alone, is the framer's record.
    const event = h.events[2]?.event as CloudEvent<DatasetVersionPublishedV1>;
    // (What the next version keeps, and the settings it was generated with, are the framer's own.)
    expect(datasetVersionOf(event)).toEqual({ ...dataset.dataset, createdAt: event.time, examplesUri: null, settingsSha256: null });
  });

  it('the framed event points to the clauses, so consumers need not call the framer back', async () => {
    const { framed } = await frameAndPublish(h);
    await h.bus.idle();
    const data = h.events[1]?.event.data as { clausesUri: string; clauseIds: string[] };
    const clauses = await readClauses(h.artifacts, data.clausesUri);
    expect(clauses).toEqual(framed.clauses);
    expect(clauses.map((c) => c.id)).toEqual(data.clauseIds);
    expect(clauses.map((c) => c.position)).toEqual(clauses.map((_, i) => i));
  });

  it('the framed event points to the framing artifact: the parsed tree and its statements, the same file for the same bytes', async () => {
    const { framed } = await frameAndPublish(h);
    await frameAndPublish(h);
    await h.bus.idle();
    const events = h.events
      .filter((e) => e.topic === 'policy.document.framed.v1')
      .map((e) => e.event.data as { framingUri?: string; documentVersion?: number });
    expect(events[0]?.documentVersion).toBe(1);
    // The second framing re-states the same event (same id, which the bus delivers once), naming the same file.
    expect(events.length).toBeGreaterThan(0);
    const uri = events[0]?.framingUri as string;
    expect(uri).toMatch(/\.framing\.json$/);
    expect(new Set(events.map((e) => e.framingUri))).toEqual(new Set([uri]));
    const artifact = await readFramingArtifact(h.artifacts, uri);
    expect(artifact.tree.clauses.map((c) => c.id)).toEqual(framed.clauses.map((c) => c.id));
    expect(artifact.statements).toEqual(frameDocument(input()).statements);
    expect(artifact.statements.length).toBeGreaterThan(0);
  });

  it('names the problem when a framing artifact is not one', async () => {
    const notJson = await h.artifacts.put('tenants/acme/x.framing.json', '{ nope');
    await expect(readFramingArtifact(h.artifacts, notJson.uri)).rejects.toThrow(/x\.framing\.json is not JSON/);
    const wrong = await h.artifacts.put('tenants/acme/y.framing.json', JSON.stringify({ tree: { clauses: [] } }));
    await expect(readFramingArtifact(h.artifacts, wrong.uri)).rejects.toThrow(/y\.framing\.json is not \{ tree, statements \}: tree\./);
  });

  it('is idempotent: the same document again gives the same clause ids and dataset hash, and no duplicates', async () => {
    const first = await frameAndPublish(h);
    const second = await frameAndPublish(h);
    await h.bus.idle();
    expect(second.dataset.created).toBe(false);
    expect(second.dataset.dataset.id).toBe(first.dataset.dataset.id);
    expect(second.dataset.dataset.sha256).toBe(first.dataset.dataset.sha256);
    expect(second.framed.clauses.map((c) => c.id)).toEqual(first.framed.clauses.map((c) => c.id));
    expect(await h.repos.clauses.count(TENANT)).toBe(first.framed.clauses.length);
    expect(await h.repos.datasets.count(TENANT)).toBe(1);
    expect(readdirSync(join(h.dir, 'tenants', TENANT, 'datasets'))).toEqual([first.dataset.dataset.id]);
    // The framed event is re-stated with the same id, which consumers skip.
    const framedIds = h.events.filter((e) => e.topic === 'policy.document.framed.v1').map((e) => e.event.id);
    expect(new Set(framedIds).size).toBe(1);
  });

  it('changes the dataset version when the document changes', async () => {
    const first = await frameAndPublish(h);
    const second = await frameAndPublish(h, { documentId: 'acme-cg-2', policy: POLICY.replace('up to $50', 'up to $75') });
    expect(second.dataset.dataset.sha256).not.toBe(first.dataset.dataset.sha256);
    expect(await h.repos.datasets.count(TENANT)).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['binary', '\u0000\u0001\u0002binary'],
    ['without structure', 'hello'],
  ])('refuses an %s upload before anything is published or stored', async (_name, text) => {
    expect(() => frameDocument(input({ content: new TextEncoder().encode(text) }))).toThrow(DocumentValidationError);
    await expect(uploadDocument(h, upload(text))).rejects.toThrow(DocumentRejectedError);
    await h.bus.idle();
    expect(h.events).toEqual([]);
    expect(existsSync(join(h.dir, 'documents'))).toBe(false);
    expect(await h.repos.documents.count(TENANT)).toBe(0);
  });

  it('names an upload by tenant, context and file name: new bytes under the same name are a new version of the same document', () => {
    const a = documentUploadedEvent(upload(POLICY));
    const b = documentUploadedEvent(upload(POLICY.replace('$50', '$75')));
    const c = documentUploadedEvent({ ...upload(POLICY), contextId: 'other' });
    const d = documentUploadedEvent({ ...upload(POLICY), filename: 'annex.md' });
    expect(a.data.documentId).toBe(b.data.documentId);
    expect(a.data.sha256).not.toBe(b.data.sha256);
    expect(a.data.documentId).not.toBe(c.data.documentId);
    expect(a.data.documentId).not.toBe(d.data.documentId);
    expect(a.type).toBe(`studio.${DOCUMENT_UPLOADED_V1}`);
  });

  it('records an upload whose bytes cannot be framed as rejected, with the reason, and publishes nothing', async () => {
    const event = documentUploadedEvent(upload(POLICY));
    const bad = { ...event, data: { ...event.data, storageUri: 'data:text/markdown;base64,aGVsbG8=', sha256: 'b'.repeat(64) } };
    await expect(frameUploadedDocument(h, bad)).rejects.toThrow(/sha256/);
    const hello = new TextEncoder().encode('hello');
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(hello).digest('hex');
    const rejected = await frameUploadedDocument(h, {
      ...event,
      data: { ...event.data, storageUri: 'data:text/markdown;base64,aGVsbG8=', sha256: sha },
    });
    await h.bus.idle();
    expect(rejected.document.status).toBe('rejected');
    expect(rejected.document.error).toMatch(/structure|clause|heading/i);
    expect(h.events).toEqual([]);
  });

  it('generating a dataset for a context without a framed document names the problem', async () => {
    await expect(
      generateDatasetVersion(h, { tenant: TENANT, contextId: 'empty', values: null, seedsJsonl: null, seed: 1, heldOutRatio: 0.2 }),
    ).rejects.toThrow(PipelineNotFoundError);
  });
});

describe('uploadedBytes', () => {
  const artifacts = { readBytes: async (uri: string) => new TextEncoder().encode(`from ${uri}`) };

  it('decodes base64 and percent-encoded data: URIs, and reads anything else from the artifact store', async () => {
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
    expect(
      text(await uploadedBytes(`data:text/markdown;charset=utf-8;base64,${Buffer.from('# Héllo').toString('base64')}`, artifacts)),
    ).toBe('# Héllo');
    expect(text(await uploadedBytes('data:text/plain,1.%20Rule', artifacts))).toBe('1. Rule');
    expect(text(await uploadedBytes('file:///artifacts/documents/d/x.md', artifacts))).toBe('from file:///artifacts/documents/d/x.md');
  });
});
