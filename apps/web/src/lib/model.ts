/**
 * What the web app reads from the public API (PLAN9 parts 1, 2, 4, 5, 6), as TypeScript types.
 * The app holds no server code: these mirror the JSON the gateway answers.
 */
export const ROLES = ['viewer', 'curator', 'red-teamer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Me {
  subject: string;
  name: string;
  tenant: string;
  role: Role;
  via: 'api-key' | 'oidc';
  permissions: string[];
}

export interface AuthConfig {
  oidc: null | {
    issuer: string;
    clientId: string;
    authorizationEndpoint: string;
    tokenEndpoint: string;
    scope: string;
    audience?: string | null;
  };
}

export interface ContextSummary {
  id: string;
  name?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface DocumentView {
  id: string;
  contextId: string;
  filename: string;
  mediaType: string;
  status: 'received' | 'framed' | 'rejected';
  title: string | null;
  clauseCount: number | null;
  statementCount: number | null;
  error: string | null;
  receivedAt: string;
  /** The upload event of the current version: an upload's answer names it. */
  uploadEventId: string;
  version: number | null;
  sizeBytes: number;
}

export interface UploadAnswer {
  documentId: string;
  eventId: string;
  sha256: string;
  sizeBytes: number;
}

export interface DocumentVersion {
  version: number;
  status: string;
  receivedAt: string;
  clauseCount: number | null;
  error?: string | null;
  changes?: Record<string, number> | null;
  filename?: string;
  sha256?: string;
}

export const STATEMENT_KINDS = ['obligation', 'prohibition', 'permission', 'exception', 'definition'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

export interface Statement {
  id?: string;
  kind: string;
  sentence?: string;
  text?: string;
  actor?: string | null;
  action?: string;
  modality?: string;
}

export interface Clause {
  id: string;
  documentId: string;
  numbering: string;
  citation?: string;
  heading?: string | null;
  title?: string | null;
  text: string;
  parentId?: string | null;
  position?: number;
  statements?: Statement[];
}

export interface DatasetVersion {
  id: string;
  contextId: string;
  sha256: string;
  createdAt: string;
  train: { examples: number };
  heldOut: { examples: number };
  examplesByKind?: Record<string, number>;
  clauseCoverage?: number;
  /** Concepts of the documents (and governed concept–kind pairs) its examples exercise; null where not measured. */
  conceptCoverage?: null | {
    concepts: { covered: number; total: number; share: number };
    pairs: { covered: number; total: number; share: number };
    uncoveredConcepts: string[];
  };
  /** How a reviewed version was made from its parent; null for a generated version. */
  review?: null | {
    parentDatasetVersionId: string;
    reviewedBy: string;
    approved: number;
    edited: number;
    rejected: number;
    unreviewed: number;
  };
}

export interface Example {
  id: string;
  kind: string;
  source?: string;
  question: string;
  answer: string;
  label: string | null;
  clauseIds: string[];
  clauseRefs?: string[];
  statementKind?: string | null;
  values: string[];
  split?: 'train' | 'heldOut';
  /** How a review left the example (absent: not reviewed). */
  review?: { status: 'approved' | 'edited'; by: string; originalId: string | null };
}

/** A page of examples (GET …/examples and …/review). */
export interface ExamplePage {
  total: number;
  offset: number;
  limit: number;
  examples: Example[];
}

/** What POST …/reviews answers: the new version, made from its parent. */
export interface ReviewAnswer {
  dataset: DatasetVersion;
  parentDatasetVersionId: string;
  created: boolean;
}

export type ReviewAction = 'approve' | 'edit' | 'reject';
export interface ReviewDecision {
  exampleId: string;
  action: ReviewAction;
  edited?: { prompt?: string; response?: string };
}

export interface LossPoint {
  step: number;
  loss: number;
}

/** One checkpoint evaluation: the held-out slice's token F1 and reference loss at a step. */
export interface CheckpointEvalPoint {
  step: number;
  tokenF1: number;
  heldoutLoss: number;
}

export interface TrainingRun {
  id: string;
  contextId: string;
  datasetVersionId: string;
  baseModel: string;
  state: string;
  step: number;
  totalSteps: number | null;
  lossCurve: LossPoint[];
  /** Checkpoint evaluations (absent when the run has none). */
  evalCurve?: CheckpointEvalPoint[];
  /** The adapter the run registered (GET /v1/runs/{id}), with its metrics. */
  adapter?: { metrics?: Record<string, number> } | null;
  adapterId: string | null;
  error: string | null;
  requestedAt: string;
  updatedAt: string;
}

export interface RetrievedClause {
  clauseId?: string;
  id?: string;
  numbering?: string;
  citation?: string;
  title?: string | null;
  heading?: string | null;
  text?: string;
  score?: number;
}

export interface VariantScoresView {
  correctness: number;
  faithfulness: number;
  refusalRate?: number;
  judge?: number | null;
}

export interface AuditCheck {
  metric: string;
  value: number;
  threshold: number;
  comparator: '>=' | '<=';
  passed: boolean;
  /** Why a gate failed without a measurement (set on something the audit did not measure). */
  reason?: string;
}

/** k of n with its 95% Wilson interval (the report's rates). */
export interface RateView {
  n: number;
  k: number;
  rate: number;
  low: number;
  high: number;
}

/** The audit's red team (attacks generated from the rules), as the report stores it. */
export interface RedTeamView {
  goals: number;
  attacks: number;
  variants: Record<
    string,
    | {
        success: {
          overall: RateView;
          complied: RateView;
          leaked: RateView;
          byStrategy: Record<string, RateView>;
          byValue: Record<string, RateView>;
        };
        meanReward: number | null;
        agreement: { judges: string; n: number; rate: number; kappa: number | null }[];
      }
    | undefined
  >;
  injection: null | { variant: string; attacks: number; inPrompt: number; followed: RateView };
  results: {
    attackId: string;
    goal: string;
    strategies: string[];
    turns: string[];
    variants: Record<string, { replies: string[]; outcome: string; followedInjection: boolean | null } | undefined>;
  }[];
  /** The adaptive attacker's attempts, or why none ran; absent in reports from before it. */
  adaptive?: AdaptiveView;
}

/** The adaptive attacker of an audit: its attempts round by round, or why it did not run. */
export type AdaptiveView =
  | { ran: false; reason: string }
  | {
      ran: true;
      attacker: { model: string; endpoint: string | null; promptVersion: string };
      maxRounds: number;
      goals: number;
      attempts: {
        attackId: string;
        goal: string;
        clauseIds: string[];
        variant: string;
        rounds: { round: number; prompt: string; reply: string; outcome: string }[];
        outcome: string;
        stop: { reason: string; detail: string };
      }[];
    };

export interface BenignView {
  probes: number;
  variants: Record<string, { refusal: RateView; helpful: RateView } | undefined>;
}

export interface GeneralAbilityView {
  version: string;
  provenance: string;
  items: number;
  variants: Record<string, { correct: number; accuracy: RateView } | undefined>;
  gateVariant: string;
  regression: number;
}

export interface AuditItemResult {
  itemId: string;
  question: string;
  reference: string;
  clauseIds: string[];
  expectsRefusal: boolean;
  bucket: string;
  variants: Record<string, { answer: string; correctness: number; faithfulness: number; refused: boolean; right: boolean }>;
}

export interface AuditReport {
  auditRunId: string;
  runId: string;
  contextId: string;
  datasetVersionId: string;
  createdAt: string;
  verdict: 'pass' | 'fail';
  checks: AuditCheck[];
  items: number;
  scores: Record<string, VariantScoresView>;
  buckets: Record<string, number>;
  clauses: { clauseId: string; title: string | null; items: number; itemIds: string[]; scores: Record<string, VariantScoresView> }[];
  results: AuditItemResult[];
  models: { base: string; adapter: string | null; judge: string | null; parent?: string | null };
  /** Where the audited adapter comes from (absent in older reports). */
  lineage?: null | {
    adapterId: string;
    runId: string;
    method: string;
    parentAdapterId: string | null;
    parentRunId: string | null;
    preferenceDatasetId: string | null;
  };
  /** Per kind of item (qa, scenario:violating, …): each variant's right answers and how often it advises against. */
  kinds?: {
    kind: string;
    items: number;
    variants: Record<string, { right: number; advisesAgainst: number; advisesAgainstRate: number }>;
  }[];
  stale?: null | { since: string; reason: string };
  /** The outcome buckets with their items (the gateway's report view). */
  outcomes?: Record<string, { count: number; items: OutcomeItem[] }>;
  /** Per-clause compliance, least compliant first (the gateway's report view). */
  clauseCompliance?: ClauseComplianceRow[];
  /** The release gates' settings: which variant they judge. */
  thresholds?: { gateVariant?: string };
  /** The red team, benign probes and general-ability set (absent or null in older reports). */
  redTeam?: RedTeamView | null;
  benign?: BenignView | null;
  generalAbility?: GeneralAbilityView | null;
}

export interface OutcomeItem {
  itemId: string;
  question: string;
  reference: string;
  clauseIds: string[];
  answers: Record<string, { answer: string; right: boolean; correctness: number; faithfulness: number; refused: boolean }>;
}

export interface ClauseComplianceRow {
  clauseId: string;
  numbering: string | null;
  title: string | null;
  items: number;
  variants: Record<string, { compliant: number; complianceRate: number; correctness: number; faithfulness: number }>;
}

/** The audit before it has a report: its state. */
export interface AuditState {
  state: 'queued' | 'running' | 'failed' | 'completed';
  error?: unknown;
  auditRunId?: string;
}

export const BUCKETS = ['both_fine', 'only_aligned_right', 'only_base_right', 'both_fail'] as const;
export const BUCKET_LABELS: Record<string, string> = {
  both_fine: 'Both right',
  only_aligned_right: 'Only aligned right',
  only_base_right: 'Only base right',
  both_fail: 'Both wrong',
};
export const VARIANT_LABELS: Record<string, string> = {
  base: 'Base',
  sft: 'SFT (parent)',
  aligned: 'Aligned',
  aligned_rag: 'Aligned + RAG',
};

/** A list under any of the names an endpoint may use for it ({items}, {contexts}, a bare array). */
export function listOf<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of [...keys, 'items', 'data', 'results']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}

export function isReport(body: unknown): body is AuditReport {
  return !!body && typeof body === 'object' && typeof (body as Record<string, unknown>)['verdict'] === 'string';
}
