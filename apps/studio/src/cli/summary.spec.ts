import type { DataReport } from '@studio/pipeline';
import { dataRows, overheadShare } from './summary';

describe('overheadShare', () => {
  it('is the wall time outside the model runtime as a share of the total', () => {
    const r = overheadShare({
      totalMs: 1000,
      timings: [
        { stage: 'frame', ms: 50, modelMs: 0 },
        { stage: 'train', ms: 900, modelMs: 880 },
      ],
    });
    expect(r).toEqual({ modelMs: 880, overheadMs: 120, share: 0.12 });
    expect(overheadShare({ totalMs: 0, timings: [] }).share).toBe(0);
  });
});

describe('dataRows', () => {
  it('shows what the data holds, what was dropped and what the teacher added, and where the report is', () => {
    const rows = dataRows({
      dataReport: {
        jsonUri: 'file:///d/data-report.json',
        markdownUri: 'file:///d/data-report.md',
        data: {
          byKind: { qa: 10, scenario: 4 },
          byLabel: { compliant: 2, violating: 2 },
          bySource: { template: 12, teacher: 2 },
          byValue: { honesty: 3, safety: 0 },
          dropped: { total: 5, byReason: { 'teacher:ungrounded': 4, 'seed:no-matching-clause': 1 } },
          wellFormednessRate: null,
        } as unknown as DataReport,
      },
      synthesis: {
        teacherModel: 'smollm2-135m-instruct',
        concurrency: 4,
        clauses: 2,
        requests: 12,
        resumed: 3,
        sent: 8,
        failed: 1,
        generated: 6,
        kept: 2,
        droppedByReason: { ungrounded: 4 },
        keptByKind: {},
        teacherMs: 360_000,
        promptTokens: 0,
        completionTokens: 0,
        lastError: 'timed out',
      },
    });
    expect(Object.fromEntries(rows.map(([k, v]) => [k, v]))).toEqual({
      data: 'by kind qa 10, scenario 4; by label compliant 2, violating 2; by source template 12, teacher 2',
      values: 'honesty 3',
      dropped: '5 (teacher:ungrounded 4, seed:no-matching-clause 1); well-formedness not measured',
      teacher:
        'smollm2-135m-instruct, concurrency 4: generated 6, kept 2 (33.3%), 60 generated / 20 kept per hour; 12 requests, 3 resumed, 1 failed (last: timed out; run again to retry them)',
      'data report': '/d/data-report.md (JSON: /d/data-report.json)',
    });
  });
});
