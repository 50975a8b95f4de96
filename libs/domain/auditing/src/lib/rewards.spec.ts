import { evaluateItems } from './evaluate';
import { ANSWERS, CLAUSES, ITEMS } from './fixtures.spec-helper';
import { renderMarkdownReport } from './markdown';
import { AuditReportV1, buildAuditReport } from './report';
import { withRewards, type RewardsByVariant } from './rewards';
import { parseAuditThresholds } from './thresholds';

const thresholds = parseAuditThresholds({ minCorrectness: 0.5 });
const model = { adapterId: 'acme-reward-3', runId: 'run-3' };
const meta = {
  contextId: 'acme',
  auditRunId: 'audit-1',
  runId: 'run-7',
  datasetVersionId: 'dv-3',
  createdAt: '2026-11-27T10:00:00.000Z',
  models: { base: 'smollm2-135m', adapter: 'acme-sft-7', judge: null },
};

/** Base answers score low, aligned ones high, aligned+RAG in between: a reward per item and variant. */
const REWARDS: RewardsByVariant = {
  base: { i1: -2, i2: -1, i3: 0, i4: -3, i5: -4 },
  aligned: { i1: 2, i2: 1, i3: 3, i4: 2, i5: 0.5 },
  aligned_rag: { i1: 1, i2: 1, i3: 1, i4: 1, i5: 1 },
};

const evaluation = () => evaluateItems(ITEMS, ANSWERS, { clauses: CLAUSES, itemPass: thresholds.itemPass });

describe('withRewards', () => {
  it('puts each answer’s reward beside its lexical scores and averages them per variant', async () => {
    const scored = withRewards(await evaluation(), REWARDS, model);
    expect(scored.rewards).toEqual({ model, items: 5, means: { base: -2, aligned: 1.7, aligned_rag: 1 } });
    const i1 = scored.evaluation.items.find((i) => i.itemId === 'i1');
    expect(i1?.variants.base).toMatchObject({ answer: 'Yes, you may accept it.', reward: -2 });
    expect(i1?.variants.aligned.reward).toBe(2);
    // The lexical scores are untouched.
    const before = (await evaluation()).items.find((i) => i.itemId === 'i1');
    expect(i1?.variants.aligned.correctness).toBe(before?.variants.aligned.correctness);
  });

  it('refuses missing, unknown and non-finite rewards, naming them', async () => {
    const e = await evaluation();
    const { i5: _dropped, ...fourItems } = REWARDS.aligned ?? {};
    expect(() => withRewards(e, { ...REWARDS, aligned: fourItems }, model)).toThrow('no reward for the aligned answer of item "i5"');
    expect(() => withRewards(e, { ...REWARDS, aligned: { ...REWARDS.aligned, i9: 1 } }, model)).toThrow(
      'reward given for item "i9" (aligned)',
    );
    expect(() => withRewards(e, { ...REWARDS, base: { ...REWARDS.base, i2: Number.NaN } }, model)).toThrow(
      'the reward of base/i2 is not a finite number',
    );
  });
});

describe('reward scores in the report', () => {
  it('keeps the summary and each answer’s reward through the JSON schema, and shows them in the Markdown', async () => {
    const scored = withRewards(await evaluation(), REWARDS, model);
    const report = buildAuditReport({ meta, evaluation: scored.evaluation, thresholds, rewards: scored.rewards });
    expect(AuditReportV1.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.rewards?.means.aligned).toBe(1.7);
    expect(report.results.find((r) => r.itemId === 'i4')?.variants.base.reward).toBe(-3);

    const md = renderMarkdownReport(report, { examplesPerBucket: 5 });
    expect(md).toMatch(/\| reward \(mean\) \| -2\.000 \| 1\.700 \| 1\.000 \|/);
    expect(md).toContain('reward model `acme-reward-3` (training run `run-3`)');
    expect(md).toMatch(
      /- base \(correctness [0-9.]+, faithfulness [0-9.]+, reward -2\.000, contradicts clause\): Yes, you may accept it\./,
    );
  });

  it('has no reward row without a reward model, and refuses a summary over answers that were not scored', async () => {
    const plain = buildAuditReport({ meta, evaluation: await evaluation(), thresholds });
    expect(plain.rewards).toBeNull();
    const md = renderMarkdownReport(plain);
    expect(md).not.toContain('reward');
    const { rewards } = withRewards(await evaluation(), REWARDS, model);
    const unscored = await evaluation();
    expect(() => buildAuditReport({ meta, evaluation: unscored, thresholds, rewards })).toThrow(
      /a reward summary was given, but 15 answers have no reward/,
    );
  });

  it('reads reports written before rewards were recorded', async () => {
    const { rewards: _none, ...old } = buildAuditReport({ meta, evaluation: await evaluation(), thresholds });
    expect(AuditReportV1.parse(old).rewards).toBeNull();
    expect(renderMarkdownReport(old as AuditReportV1)).toContain('## Scores');
  });
});
