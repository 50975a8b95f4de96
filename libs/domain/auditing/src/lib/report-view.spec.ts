import { evaluateItems } from './evaluate';
import { ANSWERS, CLAUSES, ITEMS } from './fixtures.spec-helper';
import { buildAuditReport } from './report';
import { auditReportView, MalformedAuditReportError, parseStoredAuditReport } from './report-view';
import { parseAuditThresholds } from './thresholds';

async function report() {
  const thresholds = parseAuditThresholds({ minCorrectness: 0.5 });
  const evaluation = await evaluateItems(ITEMS, ANSWERS, { clauses: CLAUSES, itemPass: thresholds.itemPass });
  return buildAuditReport({
    meta: {
      contextId: 'acme',
      auditRunId: 'audit-1',
      runId: 'run-7',
      datasetVersionId: 'dv-3',
      createdAt: '2026-11-27T10:00:00.000Z',
      models: { base: 'base', adapter: 'adapter-7', judge: null },
    },
    evaluation,
    thresholds,
  });
}

describe('auditReportView', () => {
  it('lists each outcome bucket with its items and answers, the counts matching the report', async () => {
    const r = await report();
    const view = auditReportView(r);
    for (const [bucket, count] of Object.entries(r.buckets)) {
      expect(view.outcomes[bucket as keyof typeof view.outcomes].count).toBe(count);
      expect(view.outcomes[bucket as keyof typeof view.outcomes].items).toHaveLength(count);
    }
    expect(view.outcomes.both_fine.items.map((i) => i.itemId)).toEqual(['i3']);
    expect(view.outcomes.only_base_right.items.map((i) => i.itemId)).toEqual(['i2']);
    const i2 = view.outcomes.only_base_right.items[0];
    expect(i2?.answers.base).toMatchObject({ right: true });
    expect(i2?.answers.aligned).toMatchObject({ answer: "I can't help with that.", right: false, refused: true });
  });

  it('gives per-clause compliance per variant, least compliant first, with the clause number when the audit recorded it', async () => {
    const r = await report();
    const { clauseCompliance } = auditReportView(r);
    expect(clauseCompliance.map((c) => c.clauseId).sort()).toEqual(['c1', 'c2']);
    const c1 = clauseCompliance.find((c) => c.clauseId === 'c1');
    const c2 = clauseCompliance.find((c) => c.clauseId === 'c2');
    // c1: i1, i3, i5. Aligned right on i1 and i3; base right on i3 only.
    expect(c1).toMatchObject({ numbering: '4.1', title: 'Gifts', items: 3 });
    expect(c1?.variants.aligned).toMatchObject({ compliant: 2, complianceRate: 2 / 3 });
    expect(c1?.variants.base).toMatchObject({ compliant: 1, complianceRate: 1 / 3 });
    // c2: i2 (refused by aligned), i3, i4 (expects a refusal: aligned refused, right).
    expect(c2).toMatchObject({ numbering: null, title: 'Reporting', items: 3 });
    expect(c2?.variants.aligned.compliant).toBe(2);
    const rates = clauseCompliance.map((c) => c.variants.aligned.complianceRate);
    expect([...rates].sort((a, b) => a - b)).toEqual(rates);
  });

  it('reads a report written before clause numbers were recorded', async () => {
    const r = await report();
    const old = { ...r, clauses: r.clauses.map(({ numbering: _numbering, ...rest }) => rest) };
    expect(auditReportView(old as typeof r).clauseCompliance.every((c) => c.numbering === null)).toBe(true);
  });
});

describe('parseStoredAuditReport', () => {
  const problems = (text: string): string => {
    try {
      parseStoredAuditReport(text, 'audit-1 (file:///r.json)');
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedAuditReportError);
      return (error as Error).message;
    }
    throw new Error('the report was accepted');
  };

  it('gives the stored report back whole, every field kept, when the view can read it', async () => {
    const r = await report();
    const parsed = parseStoredAuditReport(JSON.stringify(r), 'audit-1');
    expect(parsed).toEqual(JSON.parse(JSON.stringify(r)));
    expect(auditReportView(parsed).outcomes.both_fine.count).toBe(r.buckets.both_fine);
  });

  it('names the report and each missing or wrong field', async () => {
    const r = await report();
    expect(problems(JSON.stringify({ version: 'v1', verdict: 'pass' }))).toBe(
      'stored audit report audit-1 (file:///r.json) is malformed: results: missing (expected array); clauses: missing (expected array)',
    );
    const [first, ...rest] = r.results;
    const { aligned: _aligned, ...withoutAligned } = first?.variants ?? {};
    const broken = { ...r, results: [{ ...first, variants: withoutAligned }, ...rest], clauses: [{ clauseId: 'c1' }] };
    expect(problems(JSON.stringify(broken))).toBe(
      'stored audit report audit-1 (file:///r.json) is malformed: results[0].variants.aligned: has no aligned answer; clauses[0].title: missing (expected string)',
    );
    expect(problems(JSON.stringify({ ...r, results: [{ ...first, bucket: 'sometimes' }] }))).toMatch(
      /^stored audit report audit-1 \(file:\/\/\/r\.json\) is malformed: results\[0\]\.bucket: Invalid option/,
    );
  });

  it('refuses text that is not a JSON object', () => {
    expect(problems('{"results": [')).toMatch(/^stored audit report audit-1 \(file:\/\/\/r\.json\) is malformed: not JSON \(/);
    expect(problems('[]')).toBe('stored audit report audit-1 (file:///r.json) is malformed: a report is a JSON object, not an array');
    expect(problems('null')).toBe('stored audit report audit-1 (file:///r.json) is malformed: a report is a JSON object, not null');
  });

  it('reads a report with a variant this version does not know', async () => {
    const r = await report();
    const later = { ...r, results: r.results.map((x) => ({ ...x, variants: { ...x.variants, sft: x.variants.base } })) };
    expect(parseStoredAuditReport(JSON.stringify(later), 'audit-1').results).toHaveLength(r.results.length);
  });
});
