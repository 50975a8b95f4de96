import type { DocumentRevisedV1 } from '@studio/contracts';
import { normaliseQuestion, type Example } from '@studio/framing';
import {
  clausesOfDataset,
  diffDocumentVersions,
  listDocumentVersions,
  markStaleAudits,
  mergeIncremental,
  readDatasetExamples,
  type DatasetExamplesFile,
} from './document-versions';
import { PipelineNotFoundError } from './errors';
import { fakeLlm, openHarness, POLICY, SEEDS, TENANT, type Harness } from './fixtures.spec-helper';
import { frameUploadedDocument, generateDatasetVersion, uploadDocument, type FrameUploadResult } from './frame';
import type { AuditRunRecord } from './records';

const CONTEXT = 'acme-conduct';

/** Version 2 of POLICY: 1.2 changed, a clause inserted after 1.1 (so 1.2 → 1.3 and 1.3 → 1.4), 2.3 removed. */
const POLICY_V2 = POLICY.replace(
  '**1.2** Employees may accept gifts worth up to $50 without approval.',
  '**1.2** Employees must decline any gift offered during a tender.\n\n**1.3** Employees may accept gifts worth up to $25 without approval.',
)
  .replace('**1.3** Employees must record', '**1.4** Employees must record')
  .replace('\n**2.3** Employees may discuss public information about the Company freely.\n', '\n');

const ANNEX = `# Acme Travel Annex

## 1. Travel

**1.1** Employees must book travel through the Travel Desk.

**1.2** Employees must not upgrade to business class without approval.
`;

async function upload(h: Harness, policy: string, documentId = 'acme-cg', filename = 'policy.md'): Promise<FrameUploadResult> {
  const event = await uploadDocument(h, {
    tenant: TENANT,
    contextId: CONTEXT,
    documentId,
    filename,
    mediaType: 'text/markdown',
    content: new TextEncoder().encode(policy),
    maxBytes: 1_000_000,
    source: '/test',
  });
  return frameUploadedDocument(h, event);
}

const generate = (h: Harness, overrides: { full?: boolean; documentId?: string } = {}) =>
  generateDatasetVersion(h, {
    tenant: TENANT,
    contextId: CONTEXT,
    values: null,
    seedsJsonl: SEEDS,
    seed: 7,
    heldOutRatio: 0.2,
    ...overrides,
  });

const linesOf = (text: string) =>
  new Map(
    text
      .trim()
      .split('\n')
      .map((l) => [(JSON.parse(l) as { id: string }).id, l]),
  );

describe('document versions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
  });
  afterEach(() => h.close());

  it('a new upload under the same document id is version 2, with its clause diff; the context keeps only the current clauses', async () => {
    const v1 = await upload(h, POLICY);
    expect(v1.version?.version).toBe(1);
    expect(v1.revision).toBeNull();
    const v2 = await upload(h, POLICY_V2);
    await h.bus.idle();
    expect(v2.document.id).toBe(v1.document.id);
    expect(v2.document.version).toBe(2);
    expect(v2.version).toMatchObject({ version: 2, previousVersion: 1, status: 'framed' });
    expect(v2.version?.changes).toEqual({ unchanged: 3, moved: 1, changed: 1, added: 1, removed: 1 });
    // The context's clauses are version 2's: none of version 1's changed or removed clauses remain.
    const stored = await h.repos.clauses.find(TENANT, { contextId: CONTEXT }, { sort: { position: 1 } });
    expect(stored.map((c) => c.id)).toEqual(v2.clauses.map((c) => c.id));
    // Unchanged clauses keep their ids across versions.
    const kept = v1.clauses.filter((c) => v2.clauses.some((d) => d.id === c.id)).map((c) => c.numbering);
    expect(kept).toEqual(['1.1', '2.1', '2.2']);

    const topics = h.events.map((e) => e.topic);
    expect(topics.filter((t) => t === 'policy.document.framed.v1')).toHaveLength(2);
    expect(topics.at(-1)).toBe('policy.document.revised.v1');
    const revised = h.events.at(-1)?.event.data as DocumentRevisedV1;
    expect(revised).toMatchObject({ documentId: 'acme-cg', fromVersion: 1, toVersion: 2, staleDatasetVersions: [] });
    const byNumbering = new Map(v1.clauses.map((c) => [c.numbering, c.id]));
    expect(revised.staleClauseIds.sort()).toEqual([byNumbering.get('1.2'), byNumbering.get('1.3'), byNumbering.get('2.3')].sort());
  });

  it('lists the versions newest first and diffs any two framed versions through the read model', async () => {
    await upload(h, POLICY);
    await upload(h, POLICY_V2);
    const listed = await listDocumentVersions(h, TENANT, CONTEXT, 'acme-cg');
    expect(listed.currentVersion).toBe(2);
    expect(listed.versions.map((v) => [v.version, v.current, v.status])).toEqual([
      [2, true, 'framed'],
      [1, false, 'framed'],
    ]);

    const diff = await diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg');
    expect(diff.from.version).toBe(1);
    expect(diff.to.version).toBe(2);
    expect(diff.changes.map((c) => `${c.type} ${c.from?.numbering ?? '-'}>${c.to?.numbering ?? '-'}`)).toEqual([
      'added ->1.2',
      'changed 1.2>1.3',
      'moved 1.3>1.4',
      'removed 2.3>-',
    ]);
    const changed = diff.changes.find((c) => c.type === 'changed');
    expect(changed?.from?.text).toContain('$50');
    expect(changed?.to?.text).toContain('$25');
    expect(changed?.matchedBy).toBe('content');
    const all = await diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg', { unchanged: true });
    expect(all.changes).toHaveLength(7);
    const backwards = await diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg', { from: 2, to: 1 });
    expect(backwards.summary).toMatchObject({ added: 1, removed: 1, changed: 1, moved: 1 });

    await expect(diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg', { to: 1 })).rejects.toThrow(/first/);
    await expect(diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg', { from: 7 })).rejects.toThrow(PipelineNotFoundError);
    await expect(listDocumentVersions(h, TENANT, 'other-context', 'acme-cg')).rejects.toThrow(/not found in context "other-context"/);
  });

  it('the same bytes again are no new version; a redelivered older upload changes nothing', async () => {
    const uploadEvent = () =>
      uploadDocument(h, {
        tenant: TENANT,
        contextId: CONTEXT,
        documentId: 'acme-cg',
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: new TextEncoder().encode(POLICY),
        maxBytes: 1_000_000,
        source: '/test',
      });
    const event1 = await uploadEvent();
    const first = await frameUploadedDocument(h, event1);
    const again = await frameUploadedDocument(h, await uploadEvent());
    expect(again.document.version).toBe(1);
    expect(again.version?.id).toBe(first.version?.id);
    expect(await h.repos.documentVersions.count(TENANT)).toBe(1);
    await upload(h, POLICY_V2);
    // The first upload's event delivered once more, after version 2.
    const replay = await frameUploadedDocument(h, event1);
    expect(replay.version).toBeNull();
    expect(replay.document.version).toBe(2);
    expect(await h.repos.documentVersions.count(TENANT)).toBe(2);
    // A new upload of version 1's bytes is a version of its own (the document was reverted).
    const reverted = await upload(h, POLICY);
    expect(reverted.version).toMatchObject({ version: 3, previousVersion: 2, sha256: first.document.sha256 });
    expect(reverted.clauses.map((c) => c.id)).toEqual(first.clauses.map((c) => c.id));
  });

  it('a redelivered upload of the current version states its revision again; one interrupted before the document was recorded is completed', async () => {
    await upload(h, POLICY);
    const v1Document = await h.repos.documents.get(TENANT, 'acme-cg');
    const event2 = await uploadDocument(h, {
      tenant: TENANT,
      contextId: CONTEXT,
      documentId: 'acme-cg',
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: new TextEncoder().encode(POLICY_V2),
      maxBytes: 1_000_000,
      source: '/test',
    });
    const framed = await frameUploadedDocument(h, event2);
    const again = await frameUploadedDocument(h, event2);
    await h.bus.idle();
    expect(again.version?.id).toBe(framed.version?.id);
    expect(again.revised).not.toBeNull();
    expect(again.revised).toEqual(framed.revised);
    // Stated again with the same event id, which the bus's consumers take once.
    const revisedIds = h.events.filter((e) => e.topic === 'policy.document.revised.v1').map((e) => e.event.id);
    expect(revisedIds).toEqual(['revised-acme-cg-v1-v2']);

    // As if framing had stopped after recording version 2 but before the document record.
    await h.repos.documents.upsert(TENANT, v1Document as NonNullable<typeof v1Document>);
    const completed = await frameUploadedDocument(h, event2);
    expect(completed.document.version).toBe(2);
    expect(completed.version?.version).toBe(2);
    expect(await h.repos.documentVersions.count(TENANT)).toBe(2);
  });

  it('refuses an upload whose document id belongs to another context, naming both', async () => {
    await upload(h, POLICY);
    const event = await uploadDocument(h, {
      tenant: TENANT,
      contextId: 'other-context',
      documentId: 'acme-cg',
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: new TextEncoder().encode(POLICY),
      maxBytes: 1_000_000,
      source: '/test',
    });
    await expect(frameUploadedDocument(h, event)).rejects.toThrow(
      'document "acme-cg" belongs to context "acme-conduct": an upload to context "other-context" needs another document id',
    );
  });

  it('a new version that cannot be framed is recorded as rejected and the framed one stays current', async () => {
    await upload(h, POLICY);
    const event = await uploadDocument(h, {
      tenant: TENANT,
      contextId: CONTEXT,
      documentId: 'acme-cg',
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: new TextEncoder().encode(POLICY),
      maxBytes: 1_000_000,
      source: '/test',
    });
    const hello = Buffer.from('hello');
    const { createHash } = await import('node:crypto');
    const rejected = await frameUploadedDocument(h, {
      ...event,
      id: 'upload-bad',
      data: {
        ...event.data,
        storageUri: `data:text/markdown;base64,${hello.toString('base64')}`,
        sha256: createHash('sha256').update(hello).digest('hex'),
      },
    });
    expect(rejected.version).toMatchObject({ version: 2, status: 'rejected', storageUri: null, previousVersion: 1 });
    expect(rejected.document).toMatchObject({ status: 'framed', version: 1 });
    const listed = await listDocumentVersions(h, TENANT, CONTEXT, 'acme-cg');
    expect(listed.versions.map((v) => [v.version, v.status, v.current])).toEqual([
      [2, 'rejected', false],
      [1, 'framed', true],
    ]);
    await expect(diffDocumentVersions(h, TENANT, CONTEXT, 'acme-cg', { from: 1, to: 2 })).rejects.toThrow(/rejected/);
  });

  it('the next dataset version keeps unchanged examples byte for byte and regenerates only those of changed clauses', async () => {
    await upload(h, POLICY);
    const first = await generate(h);
    expect(first.dataset.incremental).toBeNull();
    const before = await readDatasetExamples(h.artifacts, first.dataset.examplesUri as string);

    const v2 = await upload(h, POLICY_V2);
    await h.bus.idle();
    const revised = h.events.at(-1)?.event.data as DocumentRevisedV1;
    const stale = new Set(revised.staleClauseIds);
    const staleExamples = before.examples.filter((e) => e.example.clauseIds.some((id) => stale.has(id)));
    expect(staleExamples.length).toBeGreaterThan(0);
    expect(revised.staleDatasetVersions).toEqual([
      { datasetVersionId: first.dataset.id, staleExamples: staleExamples.length, examples: before.examples.length },
    ]);

    const second = await generate(h);
    const incremental = second.dataset.incremental;
    expect(incremental?.fromDatasetVersionId).toBe(first.dataset.id);
    expect(incremental?.dropped).toBe(staleExamples.length);
    expect(incremental?.kept).toBe(before.examples.length - staleExamples.length);
    expect(incremental?.regenerated).toBeGreaterThan(0);
    expect(second.dataset.train.examples + second.dataset.heldOut.examples).toBe(
      (incremental?.kept ?? 0) + (incremental?.regenerated ?? 0),
    );

    // Kept: same ids, same split, byte-identical lines.
    const firstLines = new Map([
      ...linesOf(await h.artifacts.read(first.dataset.train.uri)),
      ...linesOf(await h.artifacts.read(first.dataset.heldOut.uri)),
    ]);
    const secondTrain = linesOf(await h.artifacts.read(second.dataset.train.uri));
    const secondHeldOut = linesOf(await h.artifacts.read(second.dataset.heldOut.uri));
    const after = await readDatasetExamples(h.artifacts, second.dataset.examplesUri as string);
    const keptIds = before.examples.filter((e) => !staleExamples.includes(e)).map((e) => e.example.id);
    for (const id of keptIds) {
      const split = before.examples.find((e) => e.example.id === id)?.split;
      expect((split === 'train' ? secondTrain : secondHeldOut).get(id)).toBe(firstLines.get(id));
    }
    // Dropped: every stale example; regenerated: only examples of clauses version 1 did not have.
    const v1Ids = new Set(before.clauseIds);
    for (const e of staleExamples) expect(after.examples.some((x) => x.example.id === e.example.id)).toBe(false);
    const regenerated = after.examples.filter((e) => !keptIds.includes(e.example.id));
    expect(regenerated).toHaveLength(incremental?.regenerated ?? -1);
    for (const e of regenerated) expect(e.example.clauseIds.some((id) => !v1Ids.has(id))).toBe(true);
    // Every example cites current clauses only; no held-out question is trained on.
    const current = new Set(v2.clauses.map((c) => c.id));
    for (const e of after.examples) expect(e.example.clauseIds.every((id) => current.has(id))).toBe(true);
    const trainQuestions = new Set(after.examples.filter((e) => e.split === 'train').map((e) => normaliseQuestion(e.example.question)));
    expect(after.examples.filter((e) => e.split === 'heldOut' && trainQuestions.has(normaliseQuestion(e.example.question)))).toEqual([]);

    // Generating again with nothing changed is the same version, with the same counts.
    const third = await generate(h);
    expect(third.created).toBe(false);
    expect(third.dataset.id).toBe(second.dataset.id);
    expect(third.dataset.incremental).toEqual(incremental);
    // A full regeneration is asked for explicitly.
    const full = await generate(h, { full: true });
    expect(full.dataset.incremental).toBeNull();
  });

  it('reads the clauses a dataset version was generated from after a later version replaced them', async () => {
    const v1 = await upload(h, POLICY);
    const first = await generate(h);
    const v2 = await upload(h, POLICY_V2);
    const second = await generate(h);
    expect((await clausesOfDataset(h, TENANT, CONTEXT, first.dataset.id)).map((c) => c.id)).toEqual(v1.clauses.map((c) => c.id));
    expect((await clausesOfDataset(h, TENANT, CONTEXT, second.dataset.id)).map((c) => c.id)).toEqual(v2.clauses.map((c) => c.id));
    await expect(clausesOfDataset(h, TENANT, 'other-context', first.dataset.id)).rejects.toThrow(PipelineNotFoundError);
  });

  it('a dataset version is generated from every document of the context, each at its current version', async () => {
    await upload(h, POLICY);
    await upload(h, ANNEX, 'acme-travel', 'travel.md');
    const both = await generate(h);
    expect(both.dataset.documents.map((d) => [d.documentId, d.version])).toEqual([
      ['acme-cg', 1],
      ['acme-travel', 1],
    ]);
    const cited = new Set(
      (await readDatasetExamples(h.artifacts, both.dataset.examplesUri as string)).examples.flatMap((e) => e.example.clauseIds),
    );
    expect([...cited].some((id) => id.startsWith('acme-cg:'))).toBe(true);
    expect([...cited].some((id) => id.startsWith('acme-travel:'))).toBe(true);
    expect(await h.repos.clauses.count(TENANT, { contextId: CONTEXT })).toBe(8);

    // Revising one document leaves the other's examples as they were.
    await upload(h, POLICY_V2);
    const next = await generate(h);
    expect(next.dataset.documents.map((d) => [d.documentId, d.version])).toEqual([
      ['acme-cg', 2],
      ['acme-travel', 1],
    ]);
    const examples = await readDatasetExamples(h.artifacts, next.dataset.examplesUri as string);
    const travelBefore = (await readDatasetExamples(h.artifacts, both.dataset.examplesUri as string)).examples.filter((e) =>
      e.example.clauseIds.every((id) => id.startsWith('acme-travel:')),
    );
    expect(travelBefore.length).toBeGreaterThan(0);
    for (const e of travelBefore) expect(examples.examples).toContainEqual(e);
  });

  it('marks the audits of a dataset version a revision made stale, once per revision', async () => {
    await upload(h, POLICY);
    const first = await generate(h);
    const audit: AuditRunRecord = {
      id: 'audit-1',
      contextId: CONTEXT,
      runId: 'run-1',
      adapterId: 'adapter-1',
      datasetVersionId: first.dataset.id,
      items: 4,
      verdict: 'pass',
      reportJsonUri: 'file:///r.json',
      reportMarkdownUri: 'file:///r.md',
      createdAt: '2026-01-01T00:00:00.000Z',
      stale: null,
    };
    const other: AuditRunRecord = { ...audit, id: 'audit-2', datasetVersionId: 'ds-other' };
    await h.repos.audits.upsertMany(TENANT, [audit, other]);
    await upload(h, POLICY_V2);
    await h.bus.idle();
    const revised = h.events.at(-1)?.event.data as DocumentRevisedV1;
    const now = new Date('2026-02-01T00:00:00.000Z');
    const marked = await markStaleAudits(h.repos.audits, TENANT, revised, now);
    expect(marked.map((a) => a.id)).toEqual(['audit-1']);
    const stored = await h.repos.audits.get(TENANT, 'audit-1');
    expect(stored?.stale).toMatchObject({
      since: now.toISOString(),
      staleExamples: revised.staleDatasetVersions[0]?.staleExamples,
      revisions: [{ documentId: 'acme-cg', fromVersion: 1, toVersion: 2 }],
    });
    expect(stored?.stale?.reason).toMatch(/cite clauses that document acme-cg v1→v2 changed/);
    expect((await h.repos.audits.get(TENANT, 'audit-2'))?.stale).toBeNull();
    // Redelivered: nothing more.
    expect(await markStaleAudits(h.repos.audits, TENANT, revised, new Date())).toEqual([]);
  });
});

describe('mergeIncremental', () => {
  const ex = (id: string, question: string, clauseIds: string[]): Example => ({
    id,
    kind: 'qa',
    source: 'template',
    question,
    answer: 'Yes (§1).',
    rejected: null,
    label: null,
    clauseIds,
    clauseRefs: clauseIds.map(() => '1'),
    statementKind: null,
    values: [],
  });
  const previous: DatasetExamplesFile = {
    version: 1,
    clauseIds: ['a', 'b', 'c'],
    examples: [
      { split: 'train', example: ex('e1', 'May I do a?', ['a']) },
      { split: 'heldOut', example: ex('e2', 'May I do a twice?', ['a']) },
      { split: 'train', example: ex('e3', 'May I do b?', ['b']) },
      { split: 'train', example: ex('e4', 'May I do a and c?', ['a', 'c']) },
    ],
  };

  it('keeps examples of current clauses in their split, drops stale ones and adds only examples of new clauses', () => {
    const result = mergeIncremental({
      previous,
      clauseIds: ['a', 'b2', 'd'],
      candidates: [
        ex('n1', 'May I do a?', ['a']), // unchanged clause: the kept example stands
        ex('n2', 'May I do b now?', ['b2']),
        ex('n3', 'May I do d?', ['d']),
        ex('n4', 'May I do a, newly asked?', ['a']), // a new question on an unchanged clause is not regenerated
        ex('n5', 'May I do a twice?', ['a', 'd']), // asks what a kept example asks: left out
      ],
      heldOutRatio: 0,
      seed: 1,
    });
    expect(result.counts).toEqual({ kept: 2, regenerated: 2, dropped: 2 });
    expect(result.staleExampleIds.sort()).toEqual(['e3', 'e4']);
    expect(result.split.train.map((e) => e.id).sort()).toEqual(['e1', 'n2', 'n3']);
    expect(result.split.heldOut.map((e) => e.id)).toEqual(['e2']);
    expect(result.split.train.find((e) => e.id === 'e1')).toBe(previous.examples[0]?.example);
  });

  it('keeps everything and adds nothing when the clauses are the same', () => {
    const result = mergeIncremental({
      previous,
      clauseIds: ['a', 'b', 'c'],
      candidates: [ex('x', 'Something else?', ['b'])],
      heldOutRatio: 0.5,
      seed: 1,
    });
    expect(result.counts).toEqual({ kept: 4, regenerated: 0, dropped: 0 });
  });
});
