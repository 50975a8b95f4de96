import { fileURLToPath } from 'node:url';
import { variantLabels, type AuditReportV1 } from '@studio/auditing';
import { variantsOf, type TrainingHyperparameters } from '@studio/contracts';
import type { NormativeKind } from '@studio/framing';
import { citeClause, describeClauseDiff } from '@studio/framing';
import {
  describeIncremental,
  lossTrend,
  synthesisRates,
  type CheckpointEvalPoint,
  type DataReport,
  type DatasetVersionRecord,
  type DocumentVersionRecord,
  type StageTiming,
  type SynthesisReport,
} from '@studio/pipeline';
import { formatDuration } from './progress';

export type { StageTiming };

export interface AlignSummary {
  contextId: string;
  dataDir: string;
  /** The policy document and the version this run framed; `revised` when it is a new version of a document framed before in the data folder. */
  document?: {
    id: string;
    version: number | null;
    revised: {
      previousVersion: number;
      changes: NonNullable<DocumentVersionRecord['changes']>;
      differences: Array<{ type: 'moved' | 'changed' | 'added' | 'removed'; from: string | null; to: string | null }>;
      staleAudits: number;
    } | null;
  };
  clauses: number;
  statements: number;
  statementsByKind: Record<NormativeKind, number>;
  seeds: number;
  /** Seed pairs dropped on import (an InstructLab qna.yaml pair that matches no clause). */
  seedsDropped?: number;
  dataset: DatasetVersionRecord;
  /** False when this exact dataset version was already published (a re-run). */
  datasetCreated: boolean;
  /** Teacher synthesis: generated, kept and dropped; null without a teacher. */
  synthesis: SynthesisReport | null;
  /** The dataset version's data report and where it is stored. */
  dataReport: { data: DataReport; jsonUri: string; markdownUri: string };
  timings: StageTiming[];
  totalMs: number;
  training: {
    runId: string;
    adapterId: string;
    losses: number[];
    reused: boolean;
    hyperparameters: TrainingHyperparameters;
    /** Checkpoint evaluations and the adapter's metrics (early stop); absent for runs without them. */
    evalCurve?: CheckpointEvalPoint[];
    metrics?: Record<string, number>;
  } | null;
  /** The DPO round after SFT (--method sft,dpo); null or absent for SFT alone. */
  dpo?: {
    runId: string;
    adapterId: string;
    losses: number[];
    reused: boolean;
    hyperparameters: TrainingHyperparameters;
    evalCurve?: CheckpointEvalPoint[];
    metrics?: Record<string, number>;
    preferenceDatasetId: string;
    pairs: { generated: number; train: number; heldOut: number };
  } | null;
  audit: {
    report: AuditReportV1;
    reportJsonUri: string;
    reportMarkdownUri: string;
    /** Wall time and chat requests of the red team, benign probes and general-ability set (part of the audit stage). */
    redTeam?: { ms: number; requests: number };
  } | null;
  events: Record<string, number>;
}

/**
 * The checkpoint evaluations of a run in one phrase: held-out token F1 first → last (best), how many, and whether
 * early stop ended the run (and which step's weights the adapter holds); '' without evaluations.
 */
export function describeCheckpointEvals(
  curve: readonly CheckpointEvalPoint[] | undefined,
  metrics: Readonly<Record<string, number>> = {},
): string {
  const first = curve?.[0];
  const last = curve?.at(-1);
  if (!curve || !first || !last) return '';
  const best = curve.reduce((b, p) => (p.tokenF1 > b.tokenF1 ? p : b), first);
  let text = `held-out token F1 ${f3(first.tokenF1)} → ${f3(last.tokenF1)} (best ${f3(best.tokenF1)} at step ${best.step}; ${curve.length} checkpoint evaluations)`;
  const stoppedAt = metrics['early_stop_step'];
  const kept = metrics['artifact_step'];
  if (metrics['early_stopped'] === 1 && stoppedAt !== undefined) text += `, stopped early at step ${stoppedAt}`;
  if (kept !== undefined && kept !== last.step) text += `, adapter = step ${kept}`;
  return text;
}

/** Orchestration overhead: wall time not spent in the model runtime, as a share of the total. */
export function overheadShare(summary: Pick<AlignSummary, 'timings' | 'totalMs'>): { modelMs: number; overheadMs: number; share: number } {
  const modelMs = summary.timings.reduce((sum, t) => sum + t.modelMs, 0);
  const overheadMs = Math.max(0, summary.totalMs - modelMs);
  return { modelMs, overheadMs, share: summary.totalMs > 0 ? overheadMs / summary.totalMs : 0 };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function pathOf(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/** "changed §1.3 (was §1.2), added §1.2, removed §2.3, moved §1.3 → §1.4", the first `max` of them. */
export function describeDifferences(
  differences: ReadonlyArray<{ type: 'moved' | 'changed' | 'added' | 'removed'; from: string | null; to: string | null }>,
  max = 8,
): string {
  const one = (d: (typeof differences)[number]): string => {
    if (d.type === 'added') return `added ${citeClause(d.to ?? '?')}`;
    if (d.type === 'removed') return `removed ${citeClause(d.from ?? '?')}`;
    if (d.type === 'moved') return `moved ${citeClause(d.from ?? '?')} → ${citeClause(d.to ?? '?')}`;
    return d.from === d.to ? `changed ${citeClause(d.to ?? '?')}` : `changed ${citeClause(d.to ?? '?')} (was ${citeClause(d.from ?? '?')})`;
  };
  const shown = differences.slice(0, max).map(one).join(', ');
  return differences.length > max ? `${shown}, … and ${differences.length - max} more` : shown;
}

const counts = (record: Readonly<Record<string, number | undefined>>): string =>
  Object.entries(record)
    .filter(([, n]) => n)
    .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/** The data report's lines of the summary: what the data holds, what was dropped, what the teacher added. */
export function dataRows(summary: Pick<AlignSummary, 'dataReport' | 'synthesis'>): string[][] {
  const r = summary.dataReport.data;
  const rows: string[][] = [
    ['data', `by kind ${counts(r.byKind)}; by label ${counts(r.byLabel)}; by source ${counts(r.bySource)}`],
    ['values', counts(r.byValue)],
    ...(r.statementCoverage
      ? [
          [
            'statement coverage',
            `${pct(r.statementCoverage.coverage)} (${r.statementCoverage.covered} of ${r.statementCoverage.clauses} rule clauses carry a statement or a definition)`,
          ],
        ]
      : []),
    [
      'dropped',
      `${r.dropped.total}${r.dropped.total ? ` (${counts(r.dropped.byReason)})` : ''}; well-formedness ${r.wellFormednessRate === null ? 'not measured' : pct(r.wellFormednessRate)}`,
    ],
  ];
  const s = summary.synthesis;
  if (s) {
    const rates = synthesisRates(s);
    rows.push([
      'teacher',
      `${s.teacherModel}, concurrency ${s.concurrency}: generated ${s.generated}, kept ${s.kept} (${pct(rates.keptRatio)}), ${Math.round(rates.generatedPerHour)} generated / ${Math.round(rates.keptPerHour)} kept per hour; ${s.requests} requests, ${s.resumed} resumed${s.failed ? `, ${s.failed} failed (last: ${s.lastError ?? '?'}; run again to retry them)` : ''}`,
    ]);
  }
  rows.push(['data report', `${pathOf(summary.dataReport.markdownUri)} (JSON: ${pathOf(summary.dataReport.jsonUri)})`]);
  return rows;
}

/** The closing summary printed after a run. */
export function renderSummary(summary: AlignSummary): string {
  const { dataset } = summary;
  const kinds = Object.entries(summary.statementsByKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines: string[] = ['', `== studio align: ${summary.contextId} ==`];
  const rows: string[][] = [];
  const doc = summary.document;
  if (doc) {
    const revised = doc.revised;
    rows.push([
      'document',
      `${doc.id}${doc.version !== null ? ` version ${doc.version}` : ''}${revised ? ` (revises version ${revised.previousVersion}: ${describeClauseDiff(revised.changes)} clauses)` : ''}`,
    ]);
    if (revised && revised.differences.length > 0) rows.push(['changes', describeDifferences(revised.differences)]);
    if (revised && revised.staleAudits > 0)
      rows.push([
        'stale audits',
        revised.staleAudits === 1
          ? '1 earlier audit marked stale (its dataset cites changed clauses)'
          : `${revised.staleAudits} earlier audits marked stale (their datasets cite changed clauses)`,
      ]);
  }
  rows.push(
    ['clauses', String(summary.clauses)],
    ['statements', `${summary.statements}${kinds ? ` (${kinds})` : ''}`],
    [
      'examples',
      `${dataset.train.examples + dataset.heldOut.examples} (train ${dataset.train.examples} / held-out ${dataset.heldOut.examples}; ${summary.seeds} seeds${summary.seedsDropped ? `, ${summary.seedsDropped} seed pairs dropped (no matching clause)` : ''})`,
    ],
    [
      'dataset',
      `${dataset.id} sha256 ${dataset.sha256.slice(0, 16)}… clause coverage ${pct(dataset.clauseCoverage)}` +
        (dataset.conceptCoverage
          ? `, concept coverage ${pct(dataset.conceptCoverage.concepts.share)} (${dataset.conceptCoverage.concepts.covered} of ${dataset.conceptCoverage.concepts.total})`
          : ''),
    ],
    ...dataRows(summary),
  );
  if (dataset.incremental)
    rows.push(['incremental', `from ${dataset.incremental.fromDatasetVersionId}: ${describeIncremental(dataset.incremental)} examples`]);
  const withEvals = (curve: CheckpointEvalPoint[] | undefined, metrics: Record<string, number> | undefined): string => {
    const text = describeCheckpointEvals(curve, metrics);
    return text ? `; ${text}` : '';
  };
  const lossOf = (losses: number[]): string => {
    const trend = lossTrend(losses);
    const [firstLoss, lastLoss] = [losses[0], losses.at(-1)];
    return firstLoss !== undefined && lastLoss !== undefined
      ? `${f3(firstLoss)} → ${f3(lastLoss)}${trend && losses.length >= 4 ? ` (mean of first/last ${Math.min(5, Math.floor(losses.length / 2))} steps ${f3(trend.first)} → ${f3(trend.last)})` : ''}`
      : 'n/a';
  };
  if (summary.training) {
    const t = summary.training;
    rows.push([
      'training',
      `${t.runId}${t.reused ? ' (reused)' : ''}, loss ${lossOf(t.losses)}, ${t.hyperparameters.max_steps ?? 'all'} steps max, lr ${t.hyperparameters.learning_rate}` +
        withEvals(t.evalCurve, t.metrics),
    ]);
  }
  if (summary.dpo) {
    const d = summary.dpo;
    rows.push(
      [
        'preferences',
        `${d.pairs.generated} synthetic pairs; preference dataset ${d.preferenceDatasetId} (train ${d.pairs.train} / held-out ${d.pairs.heldOut})`,
      ],
      [
        'dpo',
        `${d.runId}${d.reused ? ' (reused)' : ''} from ${summary.training?.adapterId ?? 'the SFT adapter'}, loss ${lossOf(d.losses)}, ${d.hyperparameters.max_steps ?? 'all'} steps max, lr ${d.hyperparameters.learning_rate}, beta ${d.hyperparameters.dpo_beta ?? '?'}` +
          withEvals(d.evalCurve, d.metrics),
      ],
    );
  }
  lines.push(table(rows));
  const audit = summary.audit;
  if (audit) {
    const r = audit.report;
    lines.push('', `audit of ${r.items} held-out questions (greedy decoding):`);
    const labels = variantLabels(r);
    const variants = variantsOf(r.scores);
    const violating = r.kinds.find((k) => k.kind === 'scenario:violating');
    const scoreRows = [['variant', 'correctness', 'faithfulness', 'refusal rate', ...(violating ? ['advises against a violation'] : [])]];
    for (const variant of variants) {
      const s = r.scores[variant];
      const v = violating?.variants[variant];
      if (s)
        scoreRows.push([
          labels[variant],
          f3(s.correctness),
          f3(s.faithfulness),
          pct(s.refusalRate),
          ...(violating ? [v ? `${v.advisesAgainst} of ${violating.items} (${pct(v.advisesAgainstRate)})` : '–'] : []),
        ]);
    }
    lines.push(table(scoreRows));
    if (r.kinds.length > 0) {
      lines.push(
        `right answers by kind: ${r.kinds
          .map((k) => `${k.kind} (${k.items}): ${variants.map((v) => `${labels[v]} ${k.variants[v]?.right ?? 0}`).join(', ')}`)
          .join('; ')}`,
      );
    }
    lines.push(...redTeamLines(r, variants, labels, audit.redTeam ?? null));
    lines.push(
      `buckets: ${Object.entries(r.buckets)
        .map(([b, n]) => `${b} ${n}`)
        .join(', ')}`,
    );
    lines.push(
      `verdict: ${r.verdict.toUpperCase()}  (${r.checks.map((c) => `${c.metric} ${f3(c.value)} ${c.comparator} ${f3(c.threshold)} ${c.passed ? 'ok' : 'FAIL'}`).join('; ')})`,
    );
    lines.push(`report: ${pathOf(audit.reportMarkdownUri)} (JSON: ${pathOf(audit.reportJsonUri)})`);
  }
  const { modelMs, overheadMs, share } = overheadShare(summary);
  lines.push('', 'wall time per stage:');
  const timeRows = [['stage', 'wall', 'model runtime']];
  for (const t of summary.timings) timeRows.push([t.stage, formatDuration(t.ms), formatDuration(t.modelMs)]);
  timeRows.push(['total', formatDuration(summary.totalMs), formatDuration(modelMs)]);
  lines.push(table(timeRows));
  lines.push(
    `orchestration overhead: ${formatDuration(overheadMs)} = ${pct(share)} of the total (model time: loading, training, generation, embeddings)`,
  );
  lines.push(
    `events: ${Object.entries(summary.events)
      .map(([t, n]) => `${t} ×${n}`)
      .join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The red team, benign probes and general ability of an audit: one row per variant, then attack success per strategy. */
export function redTeamLines(
  r: Pick<AuditReportV1, 'redTeam' | 'benign' | 'generalAbility'>,
  variants: readonly (keyof ReturnType<typeof variantLabels>)[],
  labels: ReturnType<typeof variantLabels>,
  timing: { ms: number; requests: number } | null,
): string[] {
  const redTeam = r.redTeam;
  const benign = r.benign;
  const general = r.generalAbility;
  if (!redTeam && !benign && !general) return [];
  const rate = (x: { k: number; n: number; rate: number } | undefined): string => (x && x.n > 0 ? `${pct(x.rate)} (${x.k}/${x.n})` : '–');
  const lines = [
    `red team: ${redTeam ? `${redTeam.attacks} attacks on ${redTeam.goals} goals` : 'no attacks'}, ${benign?.probes ?? 0} benign probes, ${general?.items ?? 0} general-ability items${timing ? ` (${timing.requests} requests, ${formatDuration(timing.ms)} of the audit)` : ''}:`,
  ];
  const rows = [['variant', 'attack success', 'injections followed', 'benign refused', 'general ability']];
  for (const v of variants) {
    rows.push([
      labels[v],
      rate(redTeam?.variants[v]?.success.overall),
      v === 'aligned_rag' && redTeam?.injection ? rate(redTeam.injection.followed) : '–',
      rate(benign?.variants[v]?.refusal),
      rate(general?.variants[v]?.accuracy),
    ]);
  }
  lines.push(table(rows));
  if (general) lines.push(`general-ability regression (base − ${labels[general.gateVariant]}): ${f3(general.regression)}`);
  if (redTeam) {
    const stacks = [...new Set(variants.flatMap((v) => Object.keys(redTeam.variants[v]?.success.byStrategy ?? {})))].sort();
    lines.push(
      `attack success by strategy: ${stacks
        .map(
          (stack) =>
            `${stack} ${variants
              .flatMap((v) => {
                const x = redTeam.variants[v]?.success.byStrategy[stack];
                return x ? [`${labels[v]} ${x.k}/${x.n}`] : [];
              })
              .join(', ')}`,
        )
        .join('; ')}`,
    );
    const adaptive = redTeam.adaptive;
    if (adaptive && !adaptive.ran) lines.push(`adaptive attacks: not run (${adaptive.reason})`);
    if (adaptive?.ran) {
      const succeeded = adaptive.attempts.filter((a) => a.outcome !== 'refused').length;
      const rounds = adaptive.attempts.reduce((n, a) => n + a.rounds.length, 0);
      lines.push(
        `adaptive attacks (attacker ${adaptive.attacker.model}): ${adaptive.attempts.length} attempts on ${adaptive.goals} goals, ${rounds} rounds (at most ${adaptive.maxRounds} each), ${succeeded} succeeded`,
      );
    }
  }
  return lines;
}
