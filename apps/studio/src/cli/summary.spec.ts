import type { DataReport } from '@studio/pipeline';
import { variantLabels } from '@studio/auditing';
import {
  dataRows,
  describeCheckpointEvals,
  describeDifferences,
  overheadShare,
  redTeamLines,
  renderSummary,
  type AlignSummary,
} from './summary';

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

describe('the summary of a run that framed a new version of a document', () => {
  const dataset: AlignSummary['dataset'] = {
    id: 'ds-ctx-2',
    contextId: 'ctx',
    sha256: 'a'.repeat(64),
    documentId: 'policy',
    documentSha256: 'b'.repeat(64),
    systemPrompt: 'Follow the rules.',
    train: { uri: 'file:///d/train.jsonl', sha256: 'c'.repeat(64), examples: 40 },
    heldOut: { uri: 'file:///d/held-out.jsonl', sha256: 'd'.repeat(64), examples: 5 },
    examplesByKind: { qa: 45 },
    clauseCoverage: 0.9,
    createdAt: '2026-01-01T00:00:00.000Z',
    documents: [{ documentId: 'policy', version: 2, sha256: 'b'.repeat(64) }],
    examplesUri: 'file:///d/examples.json',
    settingsSha256: 'e'.repeat(64),
    incremental: { fromDatasetVersionId: 'ds-ctx-1', kept: 38, regenerated: 7, dropped: 6 },
    review: null,
    conceptCoverage: null,
  };
  const summary: AlignSummary = {
    contextId: 'ctx',
    dataDir: '/tmp/studio',
    document: {
      id: 'policy',
      version: 2,
      revised: {
        previousVersion: 1,
        changes: { unchanged: 3, moved: 1, changed: 1, added: 1, removed: 1 },
        differences: [
          { type: 'added', from: null, to: '1.2' },
          { type: 'changed', from: '1.2', to: '1.3' },
          { type: 'moved', from: '1.3', to: '1.4' },
          { type: 'removed', from: '2.3', to: null },
        ],
        staleAudits: 1,
      },
    },
    clauses: 6,
    statements: 6,
    statementsByKind: { obligation: 3, prohibition: 2, permission: 1, exception: 0, definition: 0 },
    seeds: 1,
    dataset,
    datasetCreated: true,
    timings: [],
    totalMs: 10,
    training: null,
    audit: null,
    events: {},
    synthesis: null,
    dataReport: {
      jsonUri: 'file:///d/data-report.json',
      markdownUri: 'file:///d/data-report.md',
      data: {
        byKind: { qa: 45 },
        byLabel: {},
        bySource: { template: 45 },
        byValue: {},
        dropped: { total: 0, byReason: {} },
        wellFormednessRate: 1,
      } as unknown as DataReport,
    },
  };

  it('prints the version, the clause changes, the stale audits and what the dataset kept, regenerated and dropped', () => {
    const text = renderSummary(summary);
    expect(text).toMatch(/document +policy version 2 \(revises version 1: 1 added, 1 changed, 1 moved, 1 removed, 3 unchanged clauses\)/);
    expect(text).toMatch(/changes +added §1\.2, changed §1\.3 \(was §1\.2\), moved §1\.3 → §1\.4, removed §2\.3/);
    expect(text).toMatch(/stale audits +1 earlier audit marked stale \(its dataset cites changed clauses\)/);
    expect(text).toMatch(/incremental +from ds-ctx-1: 38 kept, 7 regenerated, 6 dropped examples/);
  });

  it('prints a first version without a diff', () => {
    const text = renderSummary({
      ...summary,
      document: { id: 'policy', version: 1, revised: null },
      dataset: { ...dataset, incremental: null },
    });
    expect(text).toMatch(/document +policy version 1\n/);
    expect(text).not.toMatch(/changes|stale audits|incremental/);
  });

  it('prints the concept coverage of the dataset where it was measured', () => {
    expect(renderSummary(summary)).not.toMatch(/concept coverage/);
    const measured = {
      concepts: { covered: 30, total: 40, share: 0.75 },
      pairs: { covered: 20, total: 25, share: 0.8 },
      uncoveredConcepts: [],
      uncoveredPairs: [],
    };
    const text = renderSummary({ ...summary, dataset: { ...dataset, conceptCoverage: measured } });
    expect(text).toMatch(/dataset +ds-\S+ sha256 \S+ clause coverage [\d.]+ ?%, concept coverage 75(?:\.0)? ?% \(30 of 40\)/);
  });

  it('shortens a long list of differences', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ type: 'added' as const, from: null, to: `${i + 1}` }));
    expect(describeDifferences(many)).toBe('added §1, added §2, added §3, added §4, added §5, added §6, added §7, added §8, … and 4 more');
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

describe('the summary of an SFT + DPO run', () => {
  const scores = (correctness: number) => ({ correctness, faithfulness: 0.5, refusalRate: 0, judge: null });
  const kind = (advisesAgainst: number, right: number) => ({
    right,
    rightRate: right / 4,
    correctness: 0.5,
    stanceAgrees: advisesAgainst,
    stanceRate: advisesAgainst / 4,
    advisesAgainst,
    advisesAgainstRate: advisesAgainst / 4,
  });
  const hyperparameters = {
    epochs: 1,
    max_steps: 40,
    learning_rate: 5e-5,
    batch_size: 4,
    gradient_accumulation_steps: 1,
    max_seq_length: 320,
    seed: 42,
    eval_ratio: 0,
    checkpoint_every_steps: 1000,
    adapter: 'lora' as const,
    lora: { r: 16, alpha: 32, dropout: 0.05, target_modules: 'all-linear' as const },
    dpo_beta: 0.1,
  };
  const report = {
    items: 8,
    scores: { base: scores(0.2), sft: scores(0.41), aligned: scores(0.43), aligned_rag: scores(0.5) },
    lineage: {
      adapterId: 'adapter-dpo-1',
      runId: 'run-dpo-1',
      method: 'dpo',
      datasetVersionId: 'ds',
      parentAdapterId: 'adapter-1',
      parentRunId: 'run-1',
      preferenceDatasetId: 'prefs-1',
    },
    kinds: [
      {
        kind: 'qa',
        items: 4,
        stanceItems: 0,
        variants: { base: kind(0, 1), sft: kind(0, 2), aligned: kind(0, 2), aligned_rag: kind(0, 3) },
      },
      {
        kind: 'scenario:violating',
        items: 4,
        stanceItems: 4,
        variants: { base: kind(0, 0), sft: kind(2, 1), aligned: kind(4, 3), aligned_rag: kind(3, 3) },
      },
    ],
    buckets: { both_fine: 1 },
    verdict: 'pass',
    checks: [],
  } as unknown as NonNullable<AlignSummary['audit']>['report'];

  it('prints the DPO round and the SFT and SFT + DPO scores side by side, with how often each advises against a violation', () => {
    const text = renderSummary({
      ...({ ...({} as AlignSummary) } as AlignSummary),
      contextId: 'ctx',
      dataDir: '/tmp',
      clauses: 1,
      statements: 1,
      statementsByKind: { obligation: 1, prohibition: 0, permission: 0, exception: 0, definition: 0 },
      seeds: 0,
      dataset: {
        id: 'ds',
        sha256: 'a'.repeat(64),
        clauseCoverage: 1,
        train: { examples: 10 },
        heldOut: { examples: 8 },
        incremental: null,
      } as unknown as AlignSummary['dataset'],
      datasetCreated: true,
      synthesis: null,
      dataReport: {
        jsonUri: '/r.json',
        markdownUri: '/r.md',
        data: {
          byKind: {},
          byLabel: {},
          bySource: {},
          byValue: {},
          dropped: { total: 0, byReason: {} },
          wellFormednessRate: null,
        } as unknown as DataReport,
      },
      timings: [],
      totalMs: 1,
      training: {
        runId: 'run-1',
        adapterId: 'adapter-1',
        losses: [2, 1],
        reused: false,
        hyperparameters: { ...hyperparameters, dpo_beta: null, learning_rate: 5e-4 },
        evalCurve: [
          { step: 0, tokenF1: 0.05, heldoutLoss: 3 },
          { step: 20, tokenF1: 0.2, heldoutLoss: 2 },
          { step: 40, tokenF1: 0.18, heldoutLoss: 2.1 },
        ],
        metrics: { train_loss: 1.5 },
      },
      dpo: {
        runId: 'run-dpo-1',
        adapterId: 'adapter-dpo-1',
        losses: [0.69, 0.5],
        reused: false,
        hyperparameters,
        preferenceDatasetId: 'prefs-1',
        pairs: { generated: 30, train: 27, heldOut: 3 },
      },
      audit: { report, reportJsonUri: '/a.json', reportMarkdownUri: '/a.md' },
      events: {},
    });
    expect(text).toMatch(/dpo\s+run-dpo-1 from adapter-1, loss 0\.690 → 0\.500, 40 steps max, lr 0\.00005, beta 0\.1/);
    expect(text).toMatch(
      /training\s+run-1, loss 2\.000 → 1\.000, 40 steps max, lr 0\.0005; held-out token F1 0\.050 → 0\.180 \(best 0\.200 at step 20; 3 checkpoint evaluations\)/,
    );
    expect(text).toMatch(/preferences\s+30 synthetic pairs; preference dataset prefs-1 \(train 27 \/ held-out 3\)/);
    expect(text).toMatch(/SFT\s+0\.410\s+0\.500\s+0\.0%\s+2 of 4 \(50\.0%\)/);
    expect(text).toMatch(/SFT \+ DPO\s+0\.430\s+0\.500\s+0\.0%\s+4 of 4 \(100\.0%\)/);
    expect(text).toContain('scenario:violating (4): base 0, SFT 1, SFT + DPO 3, SFT + DPO + RAG 3');
  });
});

describe('the red team of the audit in the summary', () => {
  const rate = (k: number, n: number) => ({ k, n, rate: k / n, low: 0, high: 1 });
  const success = (k: number, n: number) => ({
    overall: rate(k, n),
    complied: rate(k, n),
    leaked: rate(0, n),
    byStrategy: { direct: rate(k, n) },
    byClause: {},
    byValue: {},
  });
  const labels = variantLabels({ lineage: null });

  it('prints attack success, injections followed, benign refusal and general ability per variant, with the time', () => {
    const lines = redTeamLines(
      {
        redTeam: {
          goals: 2,
          attacks: 4,
          variants: {
            base: { success: success(1, 4), meanReward: null, agreement: [] },
            aligned: { success: success(0, 4), meanReward: null, agreement: [] },
          },
          injection: { variant: 'aligned_rag', attacks: 1, inPrompt: 1, followed: rate(1, 1) },
          results: [],
        },
        benign: { probes: 2, variants: { base: { refusal: rate(0, 2), helpful: rate(2, 2) } }, results: [] },
        generalAbility: {
          version: 'v1',
          provenance: 'p',
          items: 4,
          variants: { base: { correct: 3, accuracy: rate(3, 4) }, aligned: { correct: 2, accuracy: rate(2, 4) } },
          gateVariant: 'aligned',
          regression: 0.25,
          results: [],
        },
      },
      ['base', 'aligned'],
      labels,
      { ms: 12_300, requests: 40 },
    );
    const text = lines.join('\n');
    expect(text).toMatch(/^red team: 4 attacks on 2 goals, 2 benign probes, 4 general-ability items \(40 requests, .+ of the audit\):/);
    expect(text).toMatch(/base\s+25\.0% \(1\/4\)\s+–\s+0\.0% \(0\/2\)\s+75\.0% \(3\/4\)/);
    expect(text).toContain('general-ability regression (base − aligned): 0.250');
    expect(text).toContain('attack success by strategy: direct base 1/4, aligned 0/4');
  });

  it('prints the adaptive attempts, or that they were not run and why', () => {
    const redTeam = (adaptive: NonNullable<Parameters<typeof redTeamLines>[0]['redTeam']>['adaptive']) => ({
      goals: 1,
      attacks: 0,
      variants: { aligned: { success: success(1, 1), meanReward: null, agreement: [] } },
      injection: null,
      results: [],
      adaptive,
    });
    const round = (n: number, outcome: 'refused' | 'complied') => ({ round: n, prompt: `p${n}`, reply: `r${n}`, outcome });
    const ran = redTeamLines(
      {
        redTeam: redTeam({
          ran: true,
          attacker: { model: 'smol', endpoint: null, promptVersion: 'adaptive-attacker.v1' },
          maxRounds: 3,
          goals: 1,
          attempts: [
            {
              attackId: 'atk-1',
              goalId: 'g1',
              goal: 'g',
              clauseIds: ['c1'],
              values: [],
              variant: 'aligned',
              rounds: [round(1, 'refused'), round(2, 'complied')],
              outcome: 'complied',
              rules: 'complied',
              reward: null,
              llm: null,
              rewardScore: null,
              evidence: 'e',
              stop: { reason: 'succeeded', detail: 'judged complied in round 2' },
            },
          ],
        }),
        benign: null,
        generalAbility: null,
      },
      ['aligned'],
      labels,
      null,
    ).join('\n');
    expect(ran).toContain('adaptive attacks (attacker smol): 1 attempts on 1 goals, 2 rounds (at most 3 each), 1 succeeded');
    const skipped = redTeamLines(
      { redTeam: redTeam({ ran: false, reason: 'no attacker endpoint is configured' }), benign: null, generalAbility: null },
      ['aligned'],
      labels,
      null,
    ).join('\n');
    expect(skipped).toContain('adaptive attacks: not run (no attacker endpoint is configured)');
  });

  it('prints nothing for a report without them', () => {
    expect(redTeamLines({ redTeam: null, benign: null, generalAbility: null }, ['base'], labels, null)).toEqual([]);
  });
});

describe('describeCheckpointEvals', () => {
  const curve = [
    { step: 0, tokenF1: 0.1, heldoutLoss: 3 },
    { step: 10, tokenF1: 0.3, heldoutLoss: 2 },
    { step: 20, tokenF1: 0.2, heldoutLoss: 2.5 },
  ];
  it('says where the score went, its best step, and whether early stop kept an earlier adapter', () => {
    expect(describeCheckpointEvals(curve)).toBe('held-out token F1 0.100 → 0.200 (best 0.300 at step 10; 3 checkpoint evaluations)');
    expect(describeCheckpointEvals(curve, { early_stopped: 1, early_stop_step: 20, artifact_step: 10 })).toBe(
      'held-out token F1 0.100 → 0.200 (best 0.300 at step 10; 3 checkpoint evaluations), stopped early at step 20, adapter = step 10',
    );
    expect(describeCheckpointEvals([])).toBe('');
    expect(describeCheckpointEvals(undefined)).toBe('');
  });
});
