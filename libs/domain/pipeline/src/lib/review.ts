import { unsafeNameProblem, type DatasetReview } from '@studio/contracts';
import {
  buildDatasetVersion,
  contradict,
  Example,
  ExampleKind,
  ScenarioLabel,
  sha256Hex,
  type DatasetVersion,
  type ExampleReview,
} from '@studio/framing';
import type { ExtractedGraph } from '@studio/ontology';
import { tenantKey, type Repository, type TenantId } from '@studio/ports';
import { z } from 'zod';
import { buildDataReport, dataReportKeys, writeDataReport, type DataReport } from './data-report';
import { clausesOfDataset, readDatasetExamples, type DatasetExamplesFile } from './document-versions';
import { PipelineNotFoundError } from './errors';
import { publishDatasetVersion, readDatasetOntology } from './frame';
import type { ArtifactStore, Publishing } from './ports';
import type { ClauseRecord, DatasetVersionRecord, DocumentVersionRecord } from './records';

/**
 * "Review the examples of a dataset version": a person approves, edits or rejects examples, and
 * the review makes a NEW dataset version from the one reviewed (its parent, recorded), stored and
 * published the one way every dataset version is (publishDatasetVersion), so the instructor can
 * train on it. Rejected examples are left out; an edited example replaces the original in the same
 * split, citing the same clauses, marked as edited by the reviewer; approved ones are marked
 * approved. The marks are part of the examples, so the review's version has its own content hash.
 */

const MAX_TEXT = 8_000;

const EditedText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .superRefine((value, ctx) => {
    // Line breaks and tabs are text; other control and bidi-override characters are not.
    const problem = unsafeNameProblem(value.replace(/[\n\r\t]/g, ' '));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const ReviewDecision = z
  .object({
    exampleId: z.string().min(1).max(200),
    action: z.enum(['approve', 'edit', 'reject']),
    edited: z
      .object({
        prompt: EditedText.optional().describe('The new question (the user turn)'),
        response: EditedText.optional().describe('The new answer (the assistant turn)'),
      })
      .strict()
      .optional()
      .describe('For action "edit": the new prompt, response or both'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.action === 'edit' && (d.edited === undefined || (d.edited.prompt === undefined && d.edited.response === undefined)))
      ctx.addIssue({ code: 'custom', path: ['edited'], message: 'an edit needs edited.prompt, edited.response or both' });
    if (d.action !== 'edit' && d.edited !== undefined)
      ctx.addIssue({ code: 'custom', path: ['edited'], message: `only an edit carries edited text, not "${d.action}"` });
  });
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const ReviewRequest = z
  .object({
    decisions: z.array(ReviewDecision).min(1, 'needs at least one decision').max(10_000, 'at most 10000 decisions at once'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.decisions.forEach((d, i) => {
      if (seen.has(d.exampleId))
        ctx.addIssue({ code: 'custom', path: ['decisions', i, 'exampleId'], message: `example "${d.exampleId}" is decided twice` });
      seen.add(d.exampleId);
    });
  });
export type ReviewRequest = z.infer<typeof ReviewRequest>;

/** A review that cannot be applied to this version (an HTTP API answers 400 with the message). */
export class ReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReviewError';
  }
}

export type SplitName = 'train' | 'heldOut';

/** An example as the studio shows it: where it is, and whether a person has reviewed it. */
export type ExampleView = Example & { split: SplitName };

/** One applied decision: the example before and (unless rejected) after. */
export interface AppliedDecision {
  exampleId: string;
  action: ReviewDecision['action'];
  split: SplitName;
  before: Pick<Example, 'id' | 'question' | 'answer' | 'review'>;
  /** Null for a rejection. */
  after: Pick<Example, 'id' | 'question' | 'answer' | 'review'> | null;
}

export interface ReviewPorts extends Publishing {
  repos: {
    datasets: Repository<DatasetVersionRecord>;
    clauses: Pick<Repository<ClauseRecord>, 'find'>;
    documentVersions: Pick<Repository<DocumentVersionRecord>, 'find'>;
  };
  artifacts: ArtifactStore;
}

export interface ReviewInput {
  tenant: TenantId;
  contextId: string;
  datasetVersionId: string;
  /** Who decided: the reviewer's subject. */
  reviewer: string;
  decisions: readonly ReviewDecision[];
  now?: Date;
}

export interface ReviewResult {
  dataset: DatasetVersionRecord;
  parent: DatasetVersionRecord;
  /** False when this exact version already existed (the same review again). */
  created: boolean;
  review: DatasetReview;
  decisions: AppliedDecision[];
  report: DataReport;
}

/** The dataset version of this context, or PipelineNotFoundError. */
export async function datasetVersionIn(
  datasets: Pick<Repository<DatasetVersionRecord>, 'get'>,
  tenant: TenantId,
  contextId: string,
  datasetVersionId: string,
): Promise<DatasetVersionRecord> {
  const dataset = await datasets.get(tenant, datasetVersionId);
  if (!dataset || dataset.contextId !== contextId)
    throw new PipelineNotFoundError(`dataset version "${datasetVersionId}" not found in context "${contextId}"`);
  return dataset;
}

/** Every example of a version in full, with its split (train first, each split in id order). */
export async function examplesOfDataset(
  artifacts: Pick<ArtifactStore, 'read'>,
  dataset: DatasetVersionRecord,
): Promise<DatasetExamplesFile> {
  if (!dataset.examplesUri)
    throw new ReviewError(
      `dataset version "${dataset.id}" keeps only its training splits (it was made before examples were stored in full): generate it again`,
    );
  return readDatasetExamples(artifacts, dataset.examplesUri);
}

/** The id of an edited example: a hash of the example it replaces and its new text. */
export function editedExampleId(originalId: string, question: string, answer: string): string {
  return `ex-${sha256Hex(`edited\n${originalId}\n${question}\n${answer}`).slice(0, 16)}`;
}

/**
 * Applies the decisions to the examples (pure): the new train and held-out splits, and what each
 * decision did. Throws ReviewError naming unknown example ids, an edit that changes nothing, and
 * a review that would leave no training example.
 */
export function applyReview(
  file: DatasetExamplesFile,
  decisions: readonly ReviewDecision[],
  reviewer: string,
): { split: { train: Example[]; heldOut: Example[] }; applied: AppliedDecision[]; review: Omit<DatasetReview, 'parentDatasetVersionId'> } {
  const byId = new Map(decisions.map((d) => [d.exampleId, d]));
  const known = new Set(file.examples.map((e) => e.example.id));
  const unknown = decisions.filter((d) => !known.has(d.exampleId)).map((d) => d.exampleId);
  if (unknown.length > 0)
    throw new ReviewError(
      `${unknown.length} decision(s) name examples this dataset version does not have: ${unknown
        .slice(0, 10)
        .map((id) => `"${id}"`)
        .join(', ')}${unknown.length > 10 ? ', …' : ''}`,
    );
  const split: { train: Example[]; heldOut: Example[] } = { train: [], heldOut: [] };
  const applied: AppliedDecision[] = [];
  const counts = { approved: 0, edited: 0, rejected: 0, unreviewed: 0 };
  const shown = (e: Example): AppliedDecision['before'] => ({
    id: e.id,
    question: e.question,
    answer: e.answer,
    ...(e.review ? { review: e.review } : {}),
  });
  for (const { split: where, example } of file.examples) {
    const decision = byId.get(example.id);
    if (!decision) {
      if (!example.review) counts.unreviewed += 1;
      split[where].push(example);
      continue;
    }
    let after: Example | null;
    if (decision.action === 'reject') {
      counts.rejected += 1;
      after = null;
    } else if (decision.action === 'approve') {
      counts.approved += 1;
      const review: ExampleReview = { status: 'approved', by: reviewer, originalId: null };
      after = Example.parse({ ...example, review });
    } else {
      const question = decision.edited?.prompt ?? example.question;
      const answer = decision.edited?.response ?? example.answer;
      if (question === example.question && answer === example.answer)
        throw new ReviewError(`the edit of example "${example.id}" changes neither its prompt nor its response: approve it instead`);
      counts.edited += 1;
      const review: ExampleReview = { status: 'edited', by: reviewer, originalId: example.id };
      after = Example.parse({
        ...example,
        id: editedExampleId(example.id, question, answer),
        question,
        answer,
        // The contrasting answer (preference data) follows the answer a person wrote.
        rejected: answer === example.answer ? example.rejected : contradict(answer),
        review,
      });
    }
    if (after) split[where].push(after);
    applied.push({
      exampleId: example.id,
      action: decision.action,
      split: where,
      before: shown(example),
      after: after ? shown(after) : null,
    });
  }
  if (split.train.length === 0) throw new ReviewError('this review rejects every training example: a dataset version needs at least one');
  return { split, applied, review: { reviewedBy: reviewer, ...counts } };
}

/**
 * "Review this dataset version": applies the decisions, builds the content-hashed version from
 * the result (buildDatasetVersion, with the parent's system prompt and clauses), publishes it
 * (publishDatasetVersion) with its parent and the review's counts, and writes its data report
 * (the parent's measures of the documents, its drops plus `review:rejected`).
 */
export async function reviewDatasetVersion(ports: ReviewPorts, input: ReviewInput): Promise<ReviewResult> {
  const { tenant, contextId } = input;
  const parent = await datasetVersionIn(ports.repos.datasets, tenant, contextId, input.datasetVersionId);
  const file = await examplesOfDataset(ports.artifacts, parent);
  const { split, applied, review: counts } = applyReview(file, input.decisions, input.reviewer);
  let version: DatasetVersion;
  try {
    version = buildDatasetVersion({ contextId, split, clauseIds: file.clauseIds, systemPrompt: parent.systemPrompt });
  } catch (error) {
    // An edited question that is also a question of the other split would leak the audit's items into training.
    throw new ReviewError(`the reviewed examples do not make a valid dataset version: ${(error as Error).message}`);
  }
  const review: DatasetReview = { parentDatasetVersionId: parent.id, ...counts };
  // The reviewed examples are measured against the graph the parent was measured against.
  const ontology = await readDatasetOntology(ports.artifacts, tenant, parent.id);
  const { dataset, created } = await publishDatasetVersion(ports, {
    tenant,
    version,
    clauseIds: file.clauseIds,
    documents: parent.documents,
    primary: { documentId: parent.documentId, documentSha256: parent.documentSha256 },
    settingsSha256: parent.settingsSha256,
    incremental: null,
    review,
    ontology,
    now: input.now ?? new Date(),
  });
  const report = await writeReviewedDataReport(ports, tenant, parent, version, counts.rejected, ontology);
  return { dataset, parent, created, review: dataset.review ?? review, decisions: applied, report };
}

async function writeReviewedDataReport(
  ports: ReviewPorts,
  tenant: TenantId,
  parent: DatasetVersionRecord,
  version: DatasetVersion,
  rejected: number,
  ontology: ExtractedGraph | null,
): Promise<DataReport> {
  const parentPath = ports.artifacts.localPath(tenantKey(tenant, dataReportKeys(parent.id).json));
  const parentReport = (await ports.artifacts.exists(parentPath))
    ? (JSON.parse(await ports.artifacts.read(parentPath)) as DataReport)
    : null;
  let clauses: readonly { id: string; numbering: string }[];
  try {
    clauses = await clausesOfDataset(ports, tenant, parent.contextId, parent.id);
  } catch (error) {
    if (!(error instanceof PipelineNotFoundError)) throw error;
    clauses = [];
  }
  const data = buildDataReport({
    version,
    clauses,
    values: null,
    droppedByReason: { ...(parentReport?.dropped.byReason ?? {}), ...(rejected > 0 ? { 'review:rejected': rejected } : {}) },
    statementCoverage: parentReport?.statementCoverage
      ? {
          counted: parentReport.statementCoverage.clauses,
          covered: parentReport.statementCoverage.covered,
          coverage: parentReport.statementCoverage.coverage,
          uncovered: parentReport.statementCoverage.uncovered,
        }
      : null,
    wellFormednessRate: parentReport?.wellFormednessRate ?? null,
    synthesis: null,
    seed: 0,
    ontology,
  });
  await writeDataReport(ports.artifacts, tenant, data);
  return data;
}

// ---------------------------------------------------------------- reading examples ----------

export const ExampleReviewState = z.enum(['unreviewed', 'approved', 'edited']);
export type ExampleReviewState = z.infer<typeof ExampleReviewState>;

export const ExamplesQuery = z
  .object({
    split: z.enum(['train', 'heldOut']).optional().describe('Only this split'),
    kind: ExampleKind.optional().describe('Only Q&A (qa) or scenarios (scenario)'),
    label: ScenarioLabel.optional().describe('Only scenarios of this label'),
    clauseId: z.string().min(1).max(500).optional().describe('Only examples citing this clause'),
    review: ExampleReviewState.optional().describe('Only examples in this review state'),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();
export type ExamplesQuery = z.infer<typeof ExamplesQuery>;

export interface ExamplePage {
  datasetVersionId: string;
  /** Examples matching the filters (all pages). */
  total: number;
  offset: number;
  limit: number;
  examples: ExampleView[];
}

export function reviewStateOf(example: Example): ExampleReviewState {
  return example.review?.status ?? 'unreviewed';
}

/** A page of a version's examples, filtered; train first, then held-out, each in id order. */
export function pageOfExamples(datasetVersionId: string, file: DatasetExamplesFile, query: ExamplesQuery): ExamplePage {
  const matching = file.examples
    .filter(({ split, example: e }) => {
      if (query.split && split !== query.split) return false;
      if (query.kind && e.kind !== query.kind) return false;
      if (query.label && e.label !== query.label) return false;
      if (query.clauseId && !e.clauseIds.includes(query.clauseId)) return false;
      if (query.review && reviewStateOf(e) !== query.review) return false;
      return true;
    })
    .map(({ split, example }): ExampleView => ({ ...example, split }));
  return {
    datasetVersionId,
    total: matching.length,
    offset: query.offset,
    limit: query.limit,
    examples: matching.slice(query.offset, query.offset + query.limit),
  };
}

/** The examples of a version that no one has reviewed yet (the review queue), a page at a time. */
export function reviewQueue(
  datasetVersionId: string,
  file: DatasetExamplesFile,
  query: Pick<ExamplesQuery, 'offset' | 'limit'> & Partial<ExamplesQuery>,
): ExamplePage {
  return pageOfExamples(datasetVersionId, file, { ...query, review: 'unreviewed' });
}
