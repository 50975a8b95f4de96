import { DATASET_VERSION_PUBLISHED_V1, type CloudEvent, type DatasetVersionPublishedV1 } from '@studio/contracts';
import { tenantId } from '@studio/ports';
import { readDatasetExamples } from './document-versions';
import { PipelineNotFoundError } from './errors';
import { fakeLlm, frameAndPublish, openHarness, TENANT, type Harness } from './fixtures.spec-helper';
import { generateDatasetVersion } from './frame';
import { applyReview, pageOfExamples, reviewDatasetVersion, ReviewError, reviewQueue, ReviewRequest, type ReviewDecision } from './review';
import { SEEDS } from './fixtures.spec-helper';

const REVIEWER = 'key:curator-1';

describe('reviewing a dataset version', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => 'unused'));
  });
  afterEach(async () => h.close());

  async function parentVersion() {
    const { dataset } = await frameAndPublish(h);
    const file = await readDatasetExamples(h.artifacts, dataset.dataset.examplesUri as string);
    const train = file.examples.filter((e) => e.split === 'train').map((e) => e.example);
    const heldOut = file.examples.filter((e) => e.split === 'heldOut').map((e) => e.example);
    expect(train.length).toBeGreaterThanOrEqual(3);
    expect(heldOut.length).toBeGreaterThanOrEqual(1);
    return { parent: dataset.dataset, file, train, heldOut };
  }

  const review = (datasetVersionId: string, decisions: ReviewDecision[], reviewer = REVIEWER) =>
    reviewDatasetVersion(h, { tenant: TENANT, contextId: 'acme-conduct', datasetVersionId, reviewer, decisions });

  it('makes a new content-hashed version with its parent: rejected left out, edited replaced (same clauses), approved marked', async () => {
    const { parent, file, train } = await parentVersion();
    const [approved, edited, rejected] = train as [(typeof train)[0], (typeof train)[0], (typeof train)[0]];
    const result = await review(parent.id, [
      { exampleId: approved.id, action: 'approve' },
      { exampleId: edited.id, action: 'edit', edited: { response: 'No. Employees must not accept cash gifts from suppliers (§1.1).' } },
      { exampleId: rejected.id, action: 'reject' },
    ]);
    expect(result.created).toBe(true);
    expect(result.dataset.id).not.toBe(parent.id);
    expect(result.dataset.sha256).not.toBe(parent.sha256);
    expect(result.dataset.review).toEqual({
      parentDatasetVersionId: parent.id,
      reviewedBy: REVIEWER,
      approved: 1,
      edited: 1,
      rejected: 1,
      unreviewed: file.examples.length - 3,
    });
    expect(result.dataset.train.examples).toBe(parent.train.examples - 1);
    expect(result.dataset.heldOut.examples).toBe(parent.heldOut.examples);
    expect(result.dataset.settingsSha256).toBe(parent.settingsSha256);
    expect(result.dataset.documents).toEqual(parent.documents);

    const after = await readDatasetExamples(h.artifacts, result.dataset.examplesUri as string);
    const byId = new Map(after.examples.map((e) => [e.example.id, e]));
    expect(byId.has(rejected.id)).toBe(false);
    expect(byId.has(edited.id)).toBe(false);
    expect(byId.get(approved.id)?.example.review).toEqual({ status: 'approved', by: REVIEWER, originalId: null });
    const replacement = after.examples.find((e) => e.example.review?.originalId === edited.id);
    expect(replacement?.split).toBe('train');
    expect(replacement?.example).toMatchObject({
      question: edited.question,
      answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
      clauseIds: edited.clauseIds,
      clauseRefs: edited.clauseRefs,
      kind: edited.kind,
      label: edited.label,
      review: { status: 'edited', by: REVIEWER, originalId: edited.id },
    });
    expect(replacement?.example.id).not.toBe(edited.id);
    // What the instructor trains on: the edited answer, without the rejected example.
    const trainJsonl = await h.artifacts.read(result.dataset.train.uri);
    expect(trainJsonl).toContain('No. Employees must not accept cash gifts from suppliers (§1.1).');
    expect(trainJsonl).not.toContain(`"id":"${rejected.id}"`);
    expect(result.decisions.map((d) => [d.exampleId, d.action, d.after?.id ?? null])).toEqual(
      expect.arrayContaining([
        [approved.id, 'approve', approved.id],
        [edited.id, 'edit', replacement?.example.id],
        [rejected.id, 'reject', null],
      ]),
    );

    // Published as a dataset version, with its review, for the instructor.
    await h.bus.idle();
    const published = h.events
      .filter((e) => e.topic === DATASET_VERSION_PUBLISHED_V1)
      .map((e) => e.event as CloudEvent<DatasetVersionPublishedV1>)
      .find((e) => e.data.datasetVersionId === result.dataset.id);
    expect(published?.data.review?.parentDatasetVersionId).toBe(parent.id);
    expect(published?.data.splits.train.examples).toBe(result.dataset.train.examples);
    // Its data report counts the rejection.
    expect(result.report.dropped.byReason['review:rejected']).toBe(1);
    expect(result.report.examples.total).toBe(file.examples.length - 1);
  });

  it('the same review again is the same version (not a new one); the parent is untouched', async () => {
    const { parent, train } = await parentVersion();
    const decisions: ReviewDecision[] = [{ exampleId: (train[0] as { id: string }).id, action: 'reject' }];
    const first = await review(parent.id, decisions);
    const again = await review(parent.id, decisions);
    expect(again.dataset.id).toBe(first.dataset.id);
    expect(again.created).toBe(false);
    expect(again.dataset.createdAt).toBe(first.dataset.createdAt);
    expect((await h.repos.datasets.get(TENANT, parent.id))?.review).toBeNull();
  });

  it('the review queue holds the examples nobody has reviewed, and the review of the review goes on from there', async () => {
    const { parent, file, train } = await parentVersion();
    const queue = reviewQueue(parent.id, file, { offset: 0, limit: 500 });
    expect(queue.total).toBe(file.examples.length);
    const first = await review(parent.id, [{ exampleId: (train[0] as { id: string }).id, action: 'approve' }]);
    const reviewed = await readDatasetExamples(h.artifacts, first.dataset.examplesUri as string);
    const left = reviewQueue(first.dataset.id, reviewed, { offset: 0, limit: 500 });
    expect(left.total).toBe(file.examples.length - 1);
    expect(left.examples.map((e) => e.id)).not.toContain((train[0] as { id: string }).id);
    const second = await review(first.dataset.id, [{ exampleId: (left.examples[0] as { id: string }).id, action: 'approve' }]);
    expect(second.dataset.review?.parentDatasetVersionId).toBe(first.dataset.id);
    expect(second.dataset.review?.unreviewed).toBe(file.examples.length - 2);
  });

  it('a later generation with unchanged documents keeps the reviewed examples (the review is not undone)', async () => {
    const { parent, train } = await parentVersion();
    const rejected = (train[0] as { id: string }).id;
    const reviewed = await review(parent.id, [{ exampleId: rejected, action: 'reject' }]);
    const again = await generateDatasetVersion(h, {
      tenant: TENANT,
      contextId: 'acme-conduct',
      values: null,
      seedsJsonl: SEEDS,
      seed: 7,
      heldOutRatio: 0.2,
    });
    expect(again.dataset.id).toBe(reviewed.dataset.id);
    expect(again.dataset.review?.parentDatasetVersionId).toBe(parent.id);
  });

  it('refuses unknown examples, an edit that changes nothing, a review without training data and a leak into held-out', async () => {
    const { parent, train, heldOut } = await parentVersion();
    await expect(review(parent.id, [{ exampleId: 'ex-nope', action: 'approve' }])).rejects.toThrow(
      /1 decision\(s\) name examples this dataset version does not have: "ex-nope"/,
    );
    const first = train[0] as { id: string; question: string };
    await expect(review(parent.id, [{ exampleId: first.id, action: 'edit', edited: { prompt: first.question } }])).rejects.toThrow(
      /changes neither its prompt nor its response/,
    );
    await expect(
      review(
        parent.id,
        train.map((e) => ({ exampleId: e.id, action: 'reject' as const })),
      ),
    ).rejects.toThrow(/rejects every training example/);
    await expect(
      review(parent.id, [{ exampleId: (heldOut[0] as { id: string }).id, action: 'edit', edited: { prompt: first.question } }]),
    ).rejects.toThrow(ReviewError);
    await expect(review(parent.id, [{ exampleId: first.id, action: 'approve' }]).then(() => 'ok')).resolves.toBe('ok');
  });

  it("another tenant's dataset version, or one of another context, is not found", async () => {
    const { parent, train } = await parentVersion();
    const decisions: ReviewDecision[] = [{ exampleId: (train[0] as { id: string }).id, action: 'approve' }];
    await expect(
      reviewDatasetVersion(h, {
        tenant: tenantId('other'),
        contextId: 'acme-conduct',
        datasetVersionId: parent.id,
        reviewer: REVIEWER,
        decisions,
      }),
    ).rejects.toThrow(PipelineNotFoundError);
    await expect(
      reviewDatasetVersion(h, { tenant: TENANT, contextId: 'another', datasetVersionId: parent.id, reviewer: REVIEWER, decisions }),
    ).rejects.toThrow(PipelineNotFoundError);
  });
});

describe('the review request', () => {
  it('names what is wrong: a duplicate example, an edit without text, an approval with text, an empty list', () => {
    const issues = (body: unknown) =>
      ReviewRequest.safeParse(body)
        .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ') ?? '';
    expect(
      issues({
        decisions: [
          { exampleId: 'a', action: 'approve' },
          { exampleId: 'a', action: 'reject' },
        ],
      }),
    ).toContain('decisions.1.exampleId: example "a" is decided twice');
    expect(issues({ decisions: [{ exampleId: 'a', action: 'edit' }] })).toContain('an edit needs edited.prompt, edited.response or both');
    expect(issues({ decisions: [{ exampleId: 'a', action: 'approve', edited: { prompt: 'x?' } }] })).toContain(
      'only an edit carries edited text, not "approve"',
    );
    expect(issues({ decisions: [] })).toContain('needs at least one decision');
    expect(issues({ decisions: [{ exampleId: 'a', action: 'edit', edited: { response: '   ' } }] })).toContain('must not be empty');
    expect(ReviewRequest.safeParse({ decisions: [{ exampleId: 'a', action: 'edit', edited: { prompt: 'Why?' } }] }).success).toBe(true);
  });
});

describe('pages of examples', () => {
  it('filters by split, kind, label, clause and review state, and pages', () => {
    const base = {
      question: 'Q?',
      answer: 'A.',
      rejected: null,
      clauseRefs: ['1'],
      statementKind: null,
      values: [],
      source: 'template' as const,
    };
    const file = {
      version: 1 as const,
      clauseIds: ['c1', 'c2'],
      examples: [
        { split: 'train' as const, example: { ...base, id: 'a', kind: 'qa' as const, label: null, clauseIds: ['c1'] } },
        {
          split: 'train' as const,
          example: { ...base, id: 'b', kind: 'scenario' as const, label: 'violating' as const, clauseIds: ['c2'] },
        },
        {
          split: 'heldOut' as const,
          example: {
            ...base,
            id: 'c',
            kind: 'qa' as const,
            label: null,
            clauseIds: ['c1'],
            review: { status: 'approved' as const, by: 'x', originalId: null },
          },
        },
      ],
    };
    const ids = (q: Partial<Parameters<typeof pageOfExamples>[2]>) =>
      pageOfExamples('ds', file, { offset: 0, limit: 50, ...q }).examples.map((e) => `${e.id}:${e.split}`);
    expect(ids({})).toEqual(['a:train', 'b:train', 'c:heldOut']);
    expect(ids({ split: 'heldOut' })).toEqual(['c:heldOut']);
    expect(ids({ kind: 'scenario' })).toEqual(['b:train']);
    expect(ids({ label: 'violating' })).toEqual(['b:train']);
    expect(ids({ clauseId: 'c1' })).toEqual(['a:train', 'c:heldOut']);
    expect(ids({ review: 'approved' })).toEqual(['c:heldOut']);
    expect(ids({ offset: 1, limit: 1 })).toEqual(['b:train']);
    expect(pageOfExamples('ds', file, { offset: 1, limit: 1 }).total).toBe(3);
    expect(reviewQueue('ds', file, { offset: 0, limit: 50 }).examples.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('applyReview is pure: the input file is not changed', () => {
    const example = {
      id: 'a',
      kind: 'qa' as const,
      label: null,
      clauseIds: ['c1'],
      question: 'May I?',
      answer: 'Yes (§1).',
      rejected: null,
      clauseRefs: ['1'],
      statementKind: null,
      values: [],
      source: 'template' as const,
    };
    const file = { version: 1 as const, clauseIds: ['c1'], examples: [{ split: 'train' as const, example }] };
    const out = applyReview(file, [{ exampleId: 'a', action: 'approve' }], 'me');
    expect(out.split.train[0]?.review?.status).toBe('approved');
    expect(file.examples[0]?.example).not.toHaveProperty('review');
  });
});
