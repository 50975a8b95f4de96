import { clauseCoverage } from '@studio/auditing';
import {
  citeClause,
  deriveSeed,
  seededRandom,
  type ContextValues,
  type DatasetVersion,
  type Example,
  type StatementCoverage,
} from '@studio/framing';
import { CoverageTracker, type ExtractedGraph } from '@studio/ontology';
import { tenantKey, type ArtifactStore } from '@studio/ports';
import { synthesisRates, type SynthesisReport } from './synthesize';

/**
 * The data report of a dataset version: what the data holds (examples per kind, label, value and
 * source; the clauses it covers) and what was left out of it (dropped, by reason, from every
 * stage that drops: seed import, template generation, the well-formedness gate, teacher
 * synthesis), with twenty examples drawn at random (seeded) for a person to read. Stored beside
 * the version's splits as JSON and Markdown.
 */

export const DATA_REPORT_SAMPLE_SIZE = 20;

export interface DataReportInput {
  version: Pick<DatasetVersion, 'id' | 'contextId' | 'sha256' | 'train' | 'heldOut'>;
  /** Every clause of the documents the version was built from. */
  clauses: readonly { id: string; numbering: string }[];
  /** The context's values: a value no example exercises is listed with 0. */
  values: ContextValues | null;
  /** Dropped candidates by reason, prefixed by stage ("seed:no-matching-clause", "teacher:ungrounded"). */
  droppedByReason: Readonly<Record<string, number>>;
  /** Clauses that carry a statement or a definition (framing's statementCoverage); null where not measured. */
  statementCoverage: StatementCoverage | null;
  /** Share of generated examples that passed the well-formedness gate; null where it was not measured. */
  wellFormednessRate: number | null;
  synthesis: SynthesisReport | null;
  /** Seed of the random sample. */
  seed: number;
  sampleSize?: number;
  /** The documents' concepts and relations: the report's concept coverage and per-clause table; null or absent: not measured. */
  ontology?: ExtractedGraph | null;
}

/** One clause of the per-clause table: the examples that cite it and how much of its concepts the data exercises. */
export interface DataReportClause {
  clauseId: string;
  numbering: string;
  /** Examples citing the clause. */
  examples: number;
  /** Concepts the clause defines or governs. */
  concepts: number;
  /** Of those, exercised by at least one example. */
  conceptsCovered: number;
  /** conceptsCovered / concepts; null for a clause that defines or governs no concept. */
  conceptCoverage: number | null;
  uncoveredConcepts: string[];
}

export interface DataReportSampleItem {
  id: string;
  split: 'train' | 'held-out';
  kind: Example['kind'];
  label: Example['label'];
  source: Example['source'];
  question: string;
  answer: string;
  citations: string[];
}

export interface DataReport {
  datasetVersionId: string;
  contextId: string;
  sha256: string;
  examples: { total: number; train: number; heldOut: number };
  byKind: Record<string, number>;
  byLabel: Record<string, number>;
  byValue: Record<string, number>;
  bySource: Record<string, number>;
  /** Clauses cited by at least one example. */
  clauseCoverage: { clauses: number; covered: number; coverage: number; uncovered: string[] };
  /** Clauses that carry a statement or a definition (or whose rule their items or lead-in carry); null where not measured. */
  statementCoverage: { clauses: number; covered: number; coverage: number; uncovered: string[] } | null;
  /**
   * Concepts of the documents, and governed (concept, statement kind) pairs, exercised by at least one
   * example (the ontology's datasetCoverage, without the examples per concept); null where not measured.
   */
  conceptCoverage: {
    concepts: { covered: number; total: number; share: number };
    pairs: { covered: number; total: number; share: number };
    uncoveredConcepts: string[];
    uncoveredPairs: Array<{ conceptId: string; statementKind: string }>;
  } | null;
  /** Every clause, in document order: examples citing it and the coverage of its concepts (null shares where not measured). */
  clauses: DataReportClause[];
  dropped: { total: number; byReason: Record<string, number> };
  wellFormednessRate: number | null;
  synthesis: {
    teacherModel: string;
    concurrency: number;
    requests: number;
    resumed: number;
    failed: number;
    generated: number;
    kept: number;
    keptRatio: number;
    generatedPerHour: number;
    keptPerHour: number;
    droppedByReason: Record<string, number>;
  } | null;
  sample: DataReportSampleItem[];
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function sorted(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Prefixes each reason with its stage, for `droppedByReason` ("teacher" + "ungrounded" → "teacher:ungrounded"). */
export function droppedFrom(stage: string, byReason: Readonly<Partial<Record<string, number>>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of Object.entries(byReason)) if (n) out[`${stage}:${reason}`] = n;
  return out;
}

export function buildDataReport(input: DataReportInput): DataReport {
  const { version } = input;
  if (input.wellFormednessRate !== null && !(input.wellFormednessRate >= 0 && input.wellFormednessRate <= 1))
    throw new Error(`well-formedness rate must be within [0, 1] or null, got ${input.wellFormednessRate}`);
  for (const [reason, n] of Object.entries(input.droppedByReason)) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`dropped count of "${reason}" must be a whole number >= 0, got ${n}`);
  }
  const all: Array<{ e: Example; split: 'train' | 'held-out' }> = [
    ...version.train.map((e) => ({ e, split: 'train' as const })),
    ...version.heldOut.map((e) => ({ e, split: 'held-out' as const })),
  ];
  const byKind: Record<string, number> = {};
  const byLabel: Record<string, number> = {};
  const byValue: Record<string, number> = {};
  const bySource: Record<string, number> = {};
  for (const v of input.values?.values ?? []) byValue[v.name] = 0;
  for (const { e } of all) {
    count(byKind, e.kind);
    if (e.label) count(byLabel, e.label);
    count(bySource, e.source);
    for (const v of e.values) count(byValue, v);
  }
  const numbering = new Map(input.clauses.map((c) => [c.id, c.numbering]));
  const ontology = input.ontology && input.ontology.concepts.length > 0 ? input.ontology : null;
  const tracker = ontology ? new CoverageTracker(ontology) : null;
  tracker?.add(all.map(({ e }) => e));
  const concepts = tracker?.coverage() ?? null;
  const citing = new Map<string, number>();
  for (const { e } of all) for (const id of new Set(e.clauseIds)) citing.set(id, (citing.get(id) ?? 0) + 1);
  const perClause = new Map((tracker?.byClause(input.clauses.map((c) => c.id)) ?? []).map((row) => [row.clauseId, row]));
  const coverage = clauseCoverage(
    input.clauses.map((c) => c.id),
    all.map(({ e }) => e),
  );
  const r = seededRandom(deriveSeed(input.seed, `data-report\n${version.id}`));
  const sample = r
    .shuffle(all)
    .slice(0, input.sampleSize ?? DATA_REPORT_SAMPLE_SIZE)
    .map(({ e, split }): DataReportSampleItem => ({
      id: e.id,
      split,
      kind: e.kind,
      label: e.label,
      source: e.source,
      question: e.question,
      answer: e.answer,
      citations: e.clauseRefs.map(citeClause),
    }));
  const s = input.synthesis;
  const rates = s ? synthesisRates(s) : null;
  return {
    datasetVersionId: version.id,
    contextId: version.contextId,
    sha256: version.sha256,
    examples: { total: all.length, train: version.train.length, heldOut: version.heldOut.length },
    byKind: sorted(byKind),
    byLabel: sorted(byLabel),
    byValue: sorted(byValue),
    bySource: sorted(bySource),
    clauseCoverage: {
      clauses: coverage.clauses,
      covered: coverage.covered,
      coverage: coverage.coverage,
      uncovered: coverage.uncovered.map((id) => numbering.get(id) ?? id),
    },
    statementCoverage: input.statementCoverage
      ? {
          clauses: input.statementCoverage.counted,
          covered: input.statementCoverage.covered,
          coverage: input.statementCoverage.coverage,
          uncovered: input.statementCoverage.uncovered,
        }
      : null,
    conceptCoverage: concepts
      ? {
          concepts: concepts.concepts,
          pairs: concepts.pairs,
          uncoveredConcepts: concepts.uncoveredConcepts,
          uncoveredPairs: concepts.uncoveredPairs,
        }
      : null,
    clauses: input.clauses.map((c): DataReportClause => {
      const row = perClause.get(c.id);
      return {
        clauseId: c.id,
        numbering: c.numbering,
        examples: citing.get(c.id) ?? 0,
        concepts: row?.concepts ?? 0,
        conceptsCovered: row?.covered ?? 0,
        conceptCoverage: row?.share ?? null,
        uncoveredConcepts: row?.uncovered ?? [],
      };
    }),
    dropped: {
      total: Object.values(input.droppedByReason).reduce((a, b) => a + b, 0),
      byReason: sorted({ ...input.droppedByReason }),
    },
    wellFormednessRate: input.wellFormednessRate,
    synthesis:
      s && rates
        ? {
            teacherModel: s.teacherModel,
            concurrency: s.concurrency,
            requests: s.requests,
            resumed: s.resumed,
            failed: s.failed,
            generated: s.generated,
            kept: s.kept,
            keptRatio: rates.keptRatio,
            generatedPerHour: rates.generatedPerHour,
            keptPerHour: rates.keptPerHour,
            droppedByReason: sorted({ ...(s.droppedByReason as Record<string, number>) }),
          }
        : null,
    sample,
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function countTable(title: string, record: Record<string, number>): string[] {
  const rows = Object.entries(record);
  if (rows.length === 0) return [`**${title}:** none`, ''];
  return [`| ${title} | examples |`, '|---|---:|', ...rows.map(([k, n]) => `| ${cell(k)} | ${n} |`), ''];
}

/** The report as Markdown, for a person. */
export function renderDataReportMarkdown(report: DataReport): string {
  const lines: string[] = [
    `# Data report: ${report.datasetVersionId}`,
    '',
    `Context \`${report.contextId}\`, sha256 \`${report.sha256.slice(0, 16)}…\`: ${report.examples.total} examples (train ${report.examples.train}, held-out ${report.examples.heldOut}).`,
    '',
    '## What the data holds',
    '',
    ...countTable('kind', report.byKind),
    ...countTable('label', report.byLabel),
    ...countTable('source', report.bySource),
    ...countTable('value', report.byValue),
    `Clause coverage: ${report.clauseCoverage.covered} of ${report.clauseCoverage.clauses} clauses (${pct(report.clauseCoverage.coverage)}) are cited by an example.`,
  ];
  const sc = report.statementCoverage;
  if (sc) {
    const shown = sc.uncovered.slice(0, 50).map(citeClause).join(', ');
    const more = sc.uncovered.length - 50;
    lines.push(
      `Statement coverage: ${sc.covered} of ${sc.clauses} rule clauses (${pct(sc.coverage)}) carry a statement or a definition${sc.uncovered.length ? `; not: ${shown}${more > 0 ? ` and ${more} more` : ''}` : ''}.`,
    );
  }
  if (report.clauseCoverage.uncovered.length > 0) {
    const shown = report.clauseCoverage.uncovered.slice(0, 50).map(citeClause).join(', ');
    const more = report.clauseCoverage.uncovered.length - 50;
    lines.push(`Not cited by any example: ${shown}${more > 0 ? ` and ${more} more` : ''}.`);
  }
  const cc = report.conceptCoverage;
  if (cc) {
    const shown = cc.uncoveredConcepts.slice(0, 50).join(', ');
    const more = cc.uncoveredConcepts.length - 50;
    lines.push(
      `Concept coverage: ${cc.concepts.covered} of ${cc.concepts.total} concepts (${pct(cc.concepts.share)}) and ${cc.pairs.covered} of ${cc.pairs.total} governed (concept, kind) pairs (${pct(cc.pairs.share)}) are exercised by an example${cc.uncoveredConcepts.length ? `; not: ${shown}${more > 0 ? ` and ${more} more` : ''}` : ''}.`,
    );
  }
  if (report.clauses.length > 0) {
    lines.push(
      '',
      '## Per clause',
      '',
      '| clause | examples | concepts | concept coverage | not exercised |',
      '|---|---:|---:|---:|---|',
      ...report.clauses.map(
        (c) =>
          `| ${cell(citeClause(c.numbering))} | ${c.examples} | ${c.concepts} | ${c.conceptCoverage === null ? '–' : pct(c.conceptCoverage)} | ${cell(c.uncoveredConcepts.join(', '))} |`,
      ),
    );
  }
  lines.push(
    '',
    '## What was left out',
    '',
    `Well-formedness rate: ${report.wellFormednessRate === null ? 'not measured' : pct(report.wellFormednessRate)}.`,
    '',
    ...countTable(`dropped (${report.dropped.total})`, report.dropped.byReason),
  );
  const s = report.synthesis;
  if (s) {
    lines.push(
      '## Teacher synthesis',
      '',
      `Teacher \`${s.teacherModel}\`, concurrency ${s.concurrency}: ${s.requests} requests (${s.resumed} resumed from the checkpoint, ${s.failed} failed).`,
      `Generated ${s.generated}, kept ${s.kept} (${pct(s.keptRatio)}); ${Math.round(s.generatedPerHour)} generated and ${Math.round(s.keptPerHour)} kept per hour of teacher time.`,
      '',
      ...countTable('dropped by reason', s.droppedByReason),
    );
  }
  lines.push(`## ${report.sample.length} examples drawn at random`, '');
  for (const [i, item] of report.sample.entries()) {
    const label = item.label ? `, ${item.label}` : '';
    lines.push(
      `${i + 1}. *${item.kind}${label}, ${item.source}, ${item.split}, ${item.citations.join(' ')}*`,
      `   - **Q:** ${cell(item.question)}`,
      `   - **A:** ${cell(item.answer)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The keys of a dataset version's data report, beside its splits. */
export function dataReportKeys(datasetVersionId: string): { json: string; markdown: string } {
  return { json: `datasets/${datasetVersionId}/data-report.json`, markdown: `datasets/${datasetVersionId}/data-report.md` };
}

/**
 * Writes the report (JSON and Markdown) under the version's folder of the tenant. Replaced on a
 * re-run: the same version can be reached with other drops (a resumed synthesis sends fewer requests).
 */
export async function writeDataReport(
  artifacts: Pick<ArtifactStore, 'put'>,
  tenant: string,
  report: DataReport,
): Promise<{ jsonUri: string; markdownUri: string }> {
  const keys = dataReportKeys(report.datasetVersionId);
  const json = await artifacts.put(tenantKey(tenant, keys.json), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = await artifacts.put(tenantKey(tenant, keys.markdown), renderDataReportMarkdown(report));
  return { jsonUri: json.uri, markdownUri: markdown.uri };
}
