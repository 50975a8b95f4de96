import { AuditRunCompletedV1, AuditVerdictIssuedV1 } from '@studio/contracts';
import { clauseCoverage, detectLeakage, nearDuplicates } from './data-audit';
import { evaluateItems } from './evaluate';
import { ANSWERS, CLAUSES, ITEMS } from './fixtures.spec-helper';
import { inline, renderMarkdownReport } from './markdown';
import { AuditReportV1, buildAuditReport, toAuditRunCompleted, toAuditVerdictIssued } from './report';
import { parseAuditThresholds } from './thresholds';

const meta = {
  contextId: 'acme',
  auditRunId: 'audit-1',
  runId: 'run-7',
  datasetVersionId: 'dv-3',
  createdAt: '2026-11-27T10:00:00.000Z',
  models: { base: 'smollm2-135m', adapter: 'acme-sft-7', judge: null },
};

async function fixtureReport(dataAudit = true): Promise<AuditReportV1> {
  const thresholds = parseAuditThresholds({ minCorrectness: 0.5 });
  const evaluation = await evaluateItems(ITEMS, ANSWERS, { clauses: CLAUSES, itemPass: thresholds.itemPass });
  const questions = ITEMS.map((i) => ({ id: i.id, question: i.question }));
  return buildAuditReport({
    meta,
    evaluation,
    thresholds,
    dataAudit: dataAudit
      ? {
          clauseCoverage: clauseCoverage(
            CLAUSES.map((c) => c.id),
            ITEMS,
          ),
          nearDuplicates: nearDuplicates(questions),
          leakage: detectLeakage([{ id: 't1', question: 'Can I accept a $150 gift from a supplier?' }], questions),
        }
      : null,
  });
}

describe('buildAuditReport', () => {
  it('assembles a report that round-trips through its schema and JSON', async () => {
    const report = await fixtureReport();
    expect(AuditReportV1.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report).toMatchObject({
      version: 'v1',
      contextId: 'acme',
      items: 5,
      itemPass: 0.5,
      buckets: { both_fine: 1, only_base_right: 1, only_aligned_right: 2, both_fail: 1 },
    });
    // aligned correctness (1 + 0 + 1 + 4/11 + 0) / 5 ≈ 0.47 < 0.5; faithfulness < 0.5 (i2, i4, i5 near 0); refusal rate 0.25 > 0.1.
    expect(report.verdict).toBe('fail');
    expect(report.checks.filter((c) => !c.passed).map((c) => c.metric)).toEqual([
      'aligned.correctness',
      'aligned.faithfulness',
      'aligned.refusalRate',
    ]);
    expect(report.results).toHaveLength(5);
    expect(report.dataAudit?.clauseCoverage.uncovered).toEqual(['c3']);
  });

  it('rejects inconsistent input with the reason', async () => {
    const thresholds = parseAuditThresholds({ itemPass: 0.7 });
    const evaluation = await evaluateItems(ITEMS, ANSWERS, { clauses: CLAUSES });
    expect(() => buildAuditReport({ meta, evaluation, thresholds })).toThrow(/itemPass=0.5 but thresholds.itemPass=0.7/);
    expect(() => buildAuditReport({ meta: { ...meta, createdAt: 'yesterday' }, evaluation, thresholds: parseAuditThresholds({}) })).toThrow(
      /invalid audit report: createdAt/,
    );
  });
});

describe('event data', () => {
  it('maps the report to valid audit.run.completed.v1 and audit.verdict.issued.v1 data', async () => {
    const report = await fixtureReport(false);
    const completed = toAuditRunCompleted(report, 'artifacts://acme/audit-1/report.json');
    expect(AuditRunCompletedV1.parse(completed)).toEqual(completed);
    expect(completed).toMatchObject({ auditRunId: 'audit-1', runId: 'run-7', datasetVersionId: 'dv-3', items: 5 });
    expect(completed.scores.aligned).toEqual(report.scores.aligned);
    const issued = toAuditVerdictIssued(report, 'artifacts://acme/audit-1/report.json');
    expect(AuditVerdictIssuedV1.parse(issued)).toEqual(issued);
    expect(issued.verdict).toBe('fail');
    expect(issued.checks).toEqual(report.checks);
    expect(() => toAuditRunCompleted(report, '')).toThrow();
  });
});

describe('renderMarkdownReport', () => {
  it('renders verdict, scores, buckets with examples, clauses worst first and the data audit', async () => {
    const md = renderMarkdownReport(await fixtureReport(), { examplesPerBucket: 1 });
    expect(md).toContain('# Audit report: acme');
    expect(md).toContain('## Verdict: FAIL');
    expect(md).toMatch(/\| `aligned\.refusalRate` \| 0\.250 \| ≤ 0\.100 \| \*\*fail\*\* \|/);
    expect(md).toMatch(/\| metric \| base \| aligned \| aligned \+ RAG \|/);
    expect(md).toMatch(/\| refusal rate \(benign questions\) \| 0\.0% \| 25\.0% \| 0\.0% \|/);
    expect(md).toMatch(/\| judge \| – \| – \| – \|/);
    expect(md).toMatch(/\| Only aligned right \| 2 \| 40\.0% \|/);
    expect(md).toContain('### Only aligned right (2)');
    expect(md).toContain('- … and 1 more');
    expect(md).toContain('### Both fail (1)');
    expect(md).toMatch(/aligned \(correctness 0\.000, faithfulness [0-9.]+, refusal\): I can't help with that\./);
    expect(md.indexOf('`c2` Reporting')).toBeLessThan(md.indexOf('§4.1 `c1` Gifts'));
    expect(md.indexOf('§4.1 `c1` Gifts')).toBeGreaterThan(0);
    expect(md).toContain('Clause coverage: 66.7% (2 of 3 clauses');
    expect(md).toContain('Uncovered clauses: `c3`.');
    expect(md).toContain('Near-duplicate questions (Jaccard ≥ 0.900): 0 pairs in 0 groups.');
    expect(md).toMatch(/1 of 5 held-out questions \(20\.0%\) also appear in train/);
    expect(md.endsWith('\n')).toBe(true);
  });

  it('omits the data audit and examples when asked', async () => {
    const md = renderMarkdownReport(await fixtureReport(false), { examplesPerBucket: 0 });
    expect(md).not.toContain('## Data audit');
    expect(md).not.toContain('### Both fine');
  });

  it('escapes Markdown in answers and cuts long text', () => {
    expect(inline('a | b\n*c*')).toBe('a \\| b \\*c\\*');
    expect(inline('abcdefghij', 5)).toBe('abcd…');
  });
});
