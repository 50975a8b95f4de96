import { buildDatasetVersion, splitDataset, type ContextValues, type Example } from '@studio/framing';
import { buildDataReport, droppedFrom, renderDataReportMarkdown } from './data-report';
import type { SynthesisReport } from './synthesize';

const clauses = [
  { id: 'd:1.1:a', numbering: '1.1' },
  { id: 'd:1.2:b', numbering: '1.2' },
  { id: 'd:2.1:c', numbering: '2.1' },
];

function example(i: number, patch: Partial<Example>): Example {
  return {
    id: `ex-${String(i).padStart(3, '0')}`,
    kind: 'qa',
    source: 'template',
    question: `Question number ${i} about something different ${'x'.repeat(i % 7)}?`,
    answer: `Answer ${i} (§1.1).`,
    rejected: null,
    label: null,
    clauseIds: ['d:1.1:a'],
    clauseRefs: ['1.1'],
    statementKind: null,
    values: [],
    ...patch,
  };
}

const examples: Example[] = [
  ...Array.from({ length: 20 }, (_, i) => example(i, { values: ['honesty'] })),
  ...Array.from({ length: 6 }, (_, i) =>
    example(100 + i, {
      kind: 'scenario',
      label: i % 2 ? 'violating' : 'compliant',
      source: 'teacher',
      clauseIds: ['d:1.2:b'],
      clauseRefs: ['1.2'],
    }),
  ),
  example(200, { source: 'seed', label: null, clauseIds: ['d:1.1:a', 'd:1.2:b'], clauseRefs: ['1.1', '1.2'] }),
];
const version = buildDatasetVersion({
  contextId: 'ctx',
  split: splitDataset(examples, { heldOutRatio: 0.2, seed: 3 }),
  clauseIds: clauses.map((c) => c.id),
});
const values = {
  context: { id: 'ctx', name: 'Ctx', documents: [] },
  values: [
    { name: 'honesty', priority: 1, description: 'd', sections: ['1'] },
    { name: 'safety', priority: 2, description: 'd', sections: ['2'] },
  ],
  audit: {},
} as unknown as ContextValues;

const synthesis: SynthesisReport = {
  teacherModel: 'teacher-x',
  concurrency: 4,
  clauses: 2,
  requests: 12,
  resumed: 2,
  sent: 10,
  failed: 0,
  generated: 30,
  kept: 6,
  droppedByReason: { ungrounded: 20, 'near-duplicate': 4 },
  keptByKind: { 'scenario-compliant': 3, 'scenario-violating': 3 },
  teacherMs: 1_800_000,
  promptTokens: 0,
  completionTokens: 0,
  lastError: null,
};

describe('buildDataReport', () => {
  const input = {
    version,
    clauses,
    values,
    droppedByReason: { ...droppedFrom('teacher', synthesis.droppedByReason), 'seed:no-matching-clause': 2 },
    statementCoverage: { counted: 3, covered: 2, coverage: 2 / 3, uncovered: ['1.2'] },
    wellFormednessRate: 0.95,
    synthesis,
    seed: 42,
  };

  it('counts examples per kind, label, value and source, and the clauses they cover', () => {
    const report = buildDataReport(input);
    expect(report.examples).toEqual({ total: 27, train: version.train.length, heldOut: version.heldOut.length });
    expect(report.byKind).toEqual({ qa: 21, scenario: 6 });
    expect(report.byLabel).toEqual({ compliant: 3, violating: 3 });
    expect(report.bySource).toEqual({ seed: 1, teacher: 6, template: 20 });
    // A value no example exercises is listed with 0.
    expect(report.byValue).toEqual({ honesty: 20, safety: 0 });
    expect(report.clauseCoverage).toEqual({ clauses: 3, covered: 2, coverage: 2 / 3, uncovered: ['2.1'] });
    expect(report.statementCoverage).toEqual({ clauses: 3, covered: 2, coverage: 2 / 3, uncovered: ['1.2'] });
    expect(renderDataReportMarkdown(report)).toMatch(
      /Statement coverage: 2 of 3 rule clauses \(66\.7 ?%\) carry a statement or a definition; not: §1\.2\./,
    );
  });

  it('reports drops by stage and reason, the well-formedness rate and the teacher figures', () => {
    const report = buildDataReport(input);
    expect(report.dropped).toEqual({
      total: 26,
      byReason: { 'seed:no-matching-clause': 2, 'teacher:near-duplicate': 4, 'teacher:ungrounded': 20 },
    });
    expect(report.wellFormednessRate).toBe(0.95);
    expect(report.synthesis).toMatchObject({
      generated: 30,
      kept: 6,
      keptRatio: 0.2,
      generatedPerHour: 60,
      keptPerHour: 12,
      concurrency: 4,
    });
  });

  it('draws twenty examples at random, the same for the same seed and another for another seed', () => {
    const a = buildDataReport(input);
    expect(a.sample).toHaveLength(20);
    expect(new Set(a.sample.map((s) => s.id)).size).toBe(20);
    expect(buildDataReport(input).sample).toEqual(a.sample);
    expect(buildDataReport({ ...input, seed: 7 }).sample.map((s) => s.id)).not.toEqual(a.sample.map((s) => s.id));
    const seed =
      a.sample.find((s) => s.id === 'ex-200') ?? buildDataReport({ ...input, sampleSize: 27 }).sample.find((s) => s.id === 'ex-200');
    expect(seed?.citations).toEqual(['§1.1', '§1.2']);
  });

  it('refuses counts and rates that cannot be, naming them', () => {
    expect(() => buildDataReport({ ...input, wellFormednessRate: 1.5 })).toThrow(/well-formedness rate must be within \[0, 1\]/);
    expect(() => buildDataReport({ ...input, droppedByReason: { 'generation:fragment': -1 } })).toThrow(/"generation:fragment"/);
  });

  it('renders Markdown with the counts, the drops and the sample', () => {
    const md = renderDataReportMarkdown(buildDataReport({ ...input, wellFormednessRate: null }));
    expect(md).toContain(`# Data report: ${version.id}`);
    expect(md).toContain('| teacher | 6 |');
    expect(md).toContain('Clause coverage: 2 of 3 clauses (66.7 %) are cited by an example.');
    expect(md).toContain('Not cited by any example: §2.1.');
    expect(md).toContain('Well-formedness rate: not measured.');
    expect(md).toContain('| teacher:ungrounded | 20 |');
    expect(md).toContain('Generated 30, kept 6 (20.0 %); 60 generated and 12 kept per hour of teacher time.');
    expect(md).toContain('## 20 examples drawn at random');
    expect(md.match(/^\s+- \*\*Q:\*\*/gm)).toHaveLength(20);
  });
});
