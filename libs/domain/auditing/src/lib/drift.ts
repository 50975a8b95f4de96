import type { AuditVariant } from '@studio/contracts';
import { faithfulness, type ClauseText } from './faithfulness';
import { detectRefusal } from './refusal';
import type { AnswerScore } from './schema';

/**
 * Drift of a deployed model: the conversations the gateway sampled after deployment, scored with
 * the reference-free metrics the release audit also has, against the release audit's figures of
 * the same metrics. A chat has no reference answer, so correctness cannot be measured; these can:
 *
 * - `answered`: share of answers that are not refusals (detectRefusal). Release: the share of the
 *   release variant's answers, over all held-out items, that are not refusals.
 * - `faithfulness`: mean faithfulness (key-term coverage of the clauses, less the contradiction
 *   penalty) of each answer to the clauses it cites — or, when it cites none, to the first clause
 *   retrieved for it. Release: the mean faithfulness of the variant's answers to the items' clauses.
 * - `consistency`: share of answers that do not contradict the modality of those clauses
 *   (must/must not/may). Release: the share of the variant's answers without a contradiction.
 * - `reward`: mean score of the context's reward model, when the release audit was scored with one
 *   and the same reward model scores the window (rewards of different models are not comparable).
 *
 * All four are higher-is-better; a metric drifts when the window's figure is below the release
 * figure by more than its margin. The release variant is aligned_rag (the deployed adapter answering
 * with retrieved clauses, as the chat endpoint does), aligned when the report has no aligned_rag.
 */
export const DRIFT_METRICS = ['answered', 'faithfulness', 'consistency', 'reward'] as const;
export type DriftMetricName = (typeof DRIFT_METRICS)[number];

/** How far below its release figure each metric may fall (absolute; reward in the reward model's units). */
export type DriftMargins = Record<DriftMetricName, number>;
export const DEFAULT_DRIFT_MARGINS: Readonly<DriftMargins> = { answered: 0.15, faithfulness: 0.1, consistency: 0.15, reward: 0.5 };

/**
 * Margins from `name=value` pairs separated by commas (e.g. "answered=0.2,reward=1"); metrics not
 * named keep their default. Throws, naming the problem, for an unknown metric, a repeated one or a
 * value that is not a number ≥ 0.
 */
export function parseDriftMargins(text: string, defaults: Readonly<DriftMargins> = DEFAULT_DRIFT_MARGINS): DriftMargins {
  const out: DriftMargins = { ...defaults };
  const seen = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const match = /^([a-z_]+)\s*=\s*(\S+)$/u.exec(part);
    if (!match) throw new Error(`"${part}" is not a margin: write metric=value, e.g. answered=0.2`);
    const [, name = '', raw = ''] = match;
    if (!(DRIFT_METRICS as readonly string[]).includes(name))
      throw new Error(`unknown drift metric "${name}": the metrics are ${DRIFT_METRICS.join(', ')}`);
    if (seen.has(name)) throw new Error(`the margin of "${name}" is given twice`);
    seen.add(name);
    const value = Number(raw);
    if (!/^\d+(?:\.\d+)?$/u.test(raw) || !Number.isFinite(value))
      throw new Error(`the margin of "${name}" must be a number of 0 or more, got "${raw}"`);
    out[name as DriftMetricName] = value;
  }
  return out;
}

/** The aligned window of `intervalMs` that holds `time`: [from, to), to = from + interval. */
export function driftWindowOf(time: Date, intervalMs: number): { from: Date; to: Date } {
  if (!Number.isInteger(intervalMs) || intervalMs <= 0)
    throw new Error(`a drift window must be a whole number of ms > 0, got ${intervalMs}`);
  const from = Math.floor(time.getTime() / intervalMs) * intervalMs;
  return { from: new Date(from), to: new Date(from + intervalMs) };
}

/** What the drift scoring needs of a sampled conversation. */
export interface DriftSample {
  answer: string;
  clauses: readonly { clauseId: string; text: string; cited: boolean }[];
}

export interface SampleScore {
  refused: boolean;
  faithfulness: number;
  contradiction: boolean;
  /** The clauses the answer was scored against. */
  clauseIds: string[];
}

/** The clauses an answer is held to: those it cites, else the first retrieved one, else none. */
export function clausesHeldTo(sample: DriftSample): ClauseText[] {
  const cited = sample.clauses.filter((c) => c.cited);
  const chosen = cited.length > 0 ? cited : sample.clauses.slice(0, 1);
  return chosen.map((c) => ({ id: c.clauseId, text: c.text }));
}

export function scoreSample(sample: DriftSample): SampleScore {
  const clauses = clausesHeldTo(sample);
  const f = faithfulness(sample.answer, clauses);
  return {
    refused: detectRefusal(sample.answer).refused,
    faithfulness: f.faithfulness,
    contradiction: f.contradiction,
    clauseIds: clauses.map((c) => c.id),
  };
}

export type DriftFigures = Record<DriftMetricName, number | null>;

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const share = (flags: readonly boolean[]): number | null => (flags.length === 0 ? null : flags.filter(Boolean).length / flags.length);

/** The window's figures; `rewards` (one per sample, in order) or null when no reward model scored them. */
export function windowFigures(scores: readonly SampleScore[], rewards: readonly number[] | null): DriftFigures {
  if (rewards && rewards.length !== scores.length) throw new Error(`${rewards.length} rewards for ${scores.length} samples`);
  return {
    answered: share(scores.map((s) => !s.refused)),
    faithfulness: mean(scores.map((s) => s.faithfulness)),
    consistency: share(scores.map((s) => !s.contradiction)),
    reward: rewards ? mean(rewards) : null,
  };
}

/** What the release figures are read from: an audit report's per-item results (AuditReportV1). */
export interface ReleaseAudit {
  results: readonly {
    variants: Partial<Record<AuditVariant, Pick<AnswerScore, 'refused' | 'faithfulness' | 'contradiction' | 'reward'>>>;
  }[];
}

/** The variant of the report the deployment is compared with: aligned_rag, else aligned; null when it has neither. */
export function releaseVariant(report: ReleaseAudit): 'aligned_rag' | 'aligned' | null {
  if (report.results.length > 0 && report.results.every((r) => r.variants.aligned_rag)) return 'aligned_rag';
  if (report.results.length > 0 && report.results.every((r) => r.variants.aligned)) return 'aligned';
  return null;
}

/** The release audit's figures of the drift metrics (reward null unless every answer of the variant has one). */
export function releaseFigures(report: ReleaseAudit): { variant: 'aligned_rag' | 'aligned'; figures: DriftFigures } {
  const variant = releaseVariant(report);
  if (!variant) throw new Error('the release audit has no aligned or aligned_rag answers to compare the deployment with');
  const answers = report.results.map(
    (r) => r.variants[variant] as Pick<AnswerScore, 'refused' | 'faithfulness' | 'contradiction' | 'reward'>,
  );
  const rewards = answers.map((a) => a.reward);
  return {
    variant,
    figures: {
      answered: share(answers.map((a) => !a.refused)),
      faithfulness: mean(answers.map((a) => a.faithfulness)),
      consistency: share(answers.map((a) => !a.contradiction)),
      reward: rewards.every((r): r is number => typeof r === 'number') ? mean(rewards) : null,
    },
  };
}

export interface MetricComparison {
  name: DriftMetricName;
  release: number;
  observed: number;
  margin: number;
  /** observed < release − margin. */
  drifted: boolean;
}

/** Each metric both sides measured, compared (metrics either side lacks are left out). */
export function compareWithRelease(release: DriftFigures, observed: DriftFigures, margins: Readonly<DriftMargins>): MetricComparison[] {
  const out: MetricComparison[] = [];
  for (const name of DRIFT_METRICS) {
    const r = release[name];
    const o = observed[name];
    if (r === null || o === null) continue;
    const margin = margins[name];
    // Rounded so that a figure exactly at the margin (0.8 vs 0.95 − 0.15) is not drift by a float's last bit.
    const drifted = Math.round((r - o - margin) * 1e9) > 0;
    out.push({ name, release: r, observed: o, margin, drifted });
  }
  return out;
}
