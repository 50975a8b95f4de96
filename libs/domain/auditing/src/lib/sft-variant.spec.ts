import { AuditRunCompletedV1 } from '@studio/contracts';
import { evaluateItems, type EvalItemInput } from './evaluate';
import { CLAUSES } from './fixtures.spec-helper';
import { renderMarkdownReport } from './markdown';
import { AuditReportV1, buildAuditReport, toAuditRunCompleted } from './report';
import { auditReportView } from './report-view';
import { parseAuditThresholds } from './thresholds';

/** A DPO round's audit: the parent SFT adapter answers the `sft` variant beside base, SFT + DPO and SFT + DPO + RAG. */
const ITEMS: EvalItemInput[] = [
  {
    id: 'v1',
    question: 'An employee accepted a $300 gift from a supplier. Does this comply?',
    reference: 'No, this violates the policy. Employees must not accept gifts worth more than $100 from suppliers.',
    clauseIds: ['c1'],
    kind: 'scenario:violating',
  },
  {
    id: 'v2',
    question: 'An employee kept a $500 watch from a supplier. Is this allowed?',
    reference: 'No, this violates the policy. Employees must not accept gifts worth more than $100 from suppliers.',
    clauseIds: ['c1'],
    kind: 'scenario:violating',
  },
  {
    id: 'c1',
    question: 'An employee reported a gift to the manager after a week. Does this comply?',
    reference: 'Yes, this complies. Employees must report every gift to their manager within 30 days.',
    clauseIds: ['c2'],
    kind: 'scenario:compliant',
  },
  {
    id: 'q1',
    question: 'When must a gift be reported?',
    reference: 'Report every gift to your manager within 30 days.',
    clauseIds: ['c2'],
    kind: 'qa',
  },
];
const NO = 'No, this violates the policy. Employees must not accept gifts worth more than $100 from suppliers.';
const YES_WRONG = 'Yes, this is fine; nothing prevents it.';
const ANSWERS = {
  base: { v1: YES_WRONG, v2: YES_WRONG, c1: 'Maybe.', q1: 'Whenever.' },
  sft: {
    v1: YES_WRONG,
    v2: NO,
    c1: 'Yes, this complies. Employees must report every gift to their manager within 30 days.',
    q1: 'Report every gift to your manager within 30 days.',
  },
  aligned: {
    v1: NO,
    v2: NO,
    c1: 'Yes, this complies. Employees must report every gift to their manager within 30 days.',
    q1: 'Report every gift to your manager within 30 days.',
  },
  aligned_rag: { v1: NO, v2: NO, c1: 'No.', q1: 'Report every gift to your manager within 30 days.' },
};

const meta = {
  contextId: 'acme',
  auditRunId: 'audit-9',
  runId: 'run-dpo-1',
  datasetVersionId: 'dv-3',
  createdAt: '2026-11-27T10:00:00.000Z',
  models: { base: 'tiny', adapter: 'adapter-dpo-1', judge: null, parent: 'adapter-sft-1' },
  lineage: {
    adapterId: 'adapter-dpo-1',
    runId: 'run-dpo-1',
    method: 'dpo' as const,
    datasetVersionId: 'dv-3',
    parentAdapterId: 'adapter-sft-1',
    parentRunId: 'run-sft-1',
    preferenceDatasetId: 'pd-2',
  },
};

async function report(): Promise<AuditReportV1> {
  const thresholds = parseAuditThresholds({});
  const evaluation = await evaluateItems(ITEMS, ANSWERS, { clauses: CLAUSES, itemPass: thresholds.itemPass });
  return buildAuditReport({ meta, evaluation, thresholds });
}

describe('the sft variant of a DPO round', () => {
  it('scores the parent adapter beside the others, per kind of item, without gating on it', async () => {
    const r = await report();
    expect(AuditReportV1.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect(Object.keys(r.scores)).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
    expect(r.results.every((i) => i.variants.sft !== undefined)).toBe(true);
    expect(r.checks.map((c) => c.metric).some((m) => m.startsWith('sft'))).toBe(false);
    const violating = r.kinds.find((k) => k.kind === 'scenario:violating');
    expect(r.kinds.map((k) => k.kind)).toEqual(['qa', 'scenario:violating', 'scenario:compliant']);
    expect(violating).toMatchObject({ items: 2, stanceItems: 2 });
    // "SFT + DPO beats SFT on violating scenarios", read straight off the report.
    expect(violating?.variants.sft).toMatchObject({ advisesAgainst: 1, advisesAgainstRate: 0.5, stanceAgrees: 1 });
    expect(violating?.variants.aligned).toMatchObject({ advisesAgainst: 2, advisesAgainstRate: 1, stanceAgrees: 2, right: 2 });
    expect(violating?.variants.base).toMatchObject({ advisesAgainst: 0, stanceAgrees: 0, right: 0 });
    const compliant = r.kinds.find((k) => k.kind === 'scenario:compliant');
    expect(compliant?.variants.aligned_rag).toMatchObject({ advisesAgainst: 1, stanceAgrees: 0 });
    expect(r.lineage).toEqual(meta.lineage);
    const completed = toAuditRunCompleted(r, 'file:///r.json');
    expect(AuditRunCompletedV1.parse(completed).scores.sft).toEqual(r.scores.sft);
  });

  it('renders base, SFT, SFT + DPO and SFT + DPO + RAG columns, the per-kind table and the lineage', async () => {
    const md = renderMarkdownReport(await report());
    expect(md).toContain('| metric | base | SFT | SFT + DPO | SFT + DPO + RAG |');
    expect(md).toMatch(
      /\| `scenario:violating` \| 2 \| advises against \(opens with a no\) \| 0 \(0\.0%\) \| 1 \(50\.0%\) \| 2 \(100\.0%\) \| 2 \(100\.0%\) \|/,
    );
    expect(md).toContain('trained from adapter `adapter-sft-1` (run `run-sft-1`) on preference dataset `pd-2`');
    expect(md).toContain('correctness SFT |');
  });

  it('shows the sft answers in the studio view, and a report without a parent has no sft anywhere', async () => {
    const view = auditReportView(await report());
    const items = Object.values(view.outcomes).flatMap((o) => o.items);
    expect(items).toHaveLength(4);
    expect(items.every((i) => i.answers.sft !== undefined)).toBe(true);
    expect(view.clauseCompliance[0]?.variants.sft).toBeDefined();
    const { sft: _sft, ...core } = ANSWERS;
    const evaluation = await evaluateItems(ITEMS, core, { clauses: CLAUSES });
    expect(Object.keys(evaluation.scores)).toEqual(['base', 'aligned', 'aligned_rag']);
    expect(evaluation.kinds[0]?.variants.sft).toBeUndefined();
    const plain = renderMarkdownReport(
      buildAuditReport({
        meta: { ...meta, models: { ...meta.models, parent: null }, lineage: null },
        evaluation,
        thresholds: parseAuditThresholds({}),
      }),
    );
    expect(plain).toContain('| metric | base | aligned | aligned + RAG |');
  });

  it('names the missing sft answer of an item', async () => {
    await expect(evaluateItems(ITEMS, { ...ANSWERS, sft: { v1: 'No.' } }, { clauses: CLAUSES })).rejects.toThrow(
      /missing answers \(3\): sft\/v2/,
    );
  });
});
