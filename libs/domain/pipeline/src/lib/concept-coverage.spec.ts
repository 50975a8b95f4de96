import { ContextValues, extractStatements, parseDocument } from '@studio/framing';
import { buildOntology, datasetCoverage, type ConceptCoverage } from '@studio/ontology';
import { tenantKey, type ChatRequest, type ChatResult } from '@studio/ports';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDataReportMarkdown } from './data-report';
import { readDatasetExamples } from './document-versions';
import { fakeLlm, frameAndPublish, openHarness, POLICY, SEEDS, TENANT, type Harness } from './fixtures.spec-helper';
import { conceptCoverageKeys, frameDocument, generateDatasetVersion, readDatasetOntology } from './frame';
import { reviewDatasetVersion } from './review';

const example = JSON.parse(readFileSync(join(__dirname, '../../../../../examples/northwind-conduct/values.json'), 'utf8')) as Record<
  string,
  unknown
> & { audit: Record<string, unknown> };
const valuesWith = (audit: Record<string, unknown>): ContextValues =>
  ContextValues.parse({ ...example, audit: { ...example.audit, ...audit } });

describe('the concept coverage of a dataset version', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => 'unused'));
  });
  afterEach(() => h.close());

  it('is measured against the documents’ ontology, stored on the record and in full beside the splits, and shown per clause in the data report', async () => {
    const { dataset } = await frameAndPublish(h);
    const record = dataset.dataset;
    const file = await readDatasetExamples(h.artifacts, record.examplesUri as string);
    const tree = parseDocument(POLICY, { documentId: 'acme-cg', mediaType: 'text/markdown' });
    const graph = buildOntology([{ documentId: 'acme-cg', sha256: tree.sha256, version: 1, tree, statements: extractStatements(tree) }]);
    expect(graph.concepts.length).toBeGreaterThan(5);
    const expected = datasetCoverage(
      graph,
      file.examples.map((e) => e.example),
    );
    const { examplesByConcept, ...summary } = expected;
    expect(record.conceptCoverage).toEqual(summary);
    expect(record.conceptCoverage?.concepts.covered).toBeGreaterThan(0);

    const keys = conceptCoverageKeys(record.id);
    const stored = JSON.parse(await h.artifacts.read(h.artifacts.localPath(tenantKey(TENANT, keys.coverage)))) as ConceptCoverage;
    expect(stored.examplesByConcept).toEqual(examplesByConcept);
    const ids = new Set(file.examples.map((e) => e.example.id));
    expect(
      Object.values(stored.examplesByConcept)
        .flat()
        .every((id) => ids.has(id)),
    ).toBe(true);
    expect((await readDatasetOntology(h.artifacts, TENANT, record.id))?.concepts.map((c) => c.id)).toEqual(graph.concepts.map((c) => c.id));
    expect(await readDatasetOntology(h.artifacts, TENANT, 'no-such-version')).toBeNull();

    const report = dataset.report.data;
    expect(report.conceptCoverage).toEqual(summary);
    expect(report.clauses.map((c) => c.numbering)).toEqual(tree.clauses.map((c) => c.numbering));
    const governing = report.clauses.find((c) => c.numbering === '1.1');
    expect(governing?.concepts).toBeGreaterThan(0);
    expect(governing?.examples).toBeGreaterThan(0);
    expect(governing?.conceptCoverage).toBeCloseTo((governing?.conceptsCovered ?? 0) / (governing?.concepts ?? 1), 10);
    const markdown = renderDataReportMarkdown(report);
    expect(markdown).toMatch(/Concept coverage: \d+ of \d+ concepts/);
    expect(markdown).toMatch(/\| clause \| examples \| concepts \| concept coverage \| not exercised \|/);
  }, 30_000);

  it('carries over to a reviewed version, measured on its own examples against the parent’s graph', async () => {
    const { dataset } = await frameAndPublish(h);
    const parent = dataset.dataset;
    const file = await readDatasetExamples(h.artifacts, parent.examplesUri as string);
    // Rejecting every train example that cites §2.2 leaves its concepts to the held-out examples, if any.
    const rejected = file.examples.filter((e) => e.split === 'train' && e.example.clauseRefs.includes('2.2')).map((e) => e.example.id);
    expect(rejected.length).toBeGreaterThan(0);
    const result = await reviewDatasetVersion(h, {
      tenant: TENANT,
      contextId: 'acme-conduct',
      datasetVersionId: parent.id,
      reviewer: 'key:curator',
      decisions: rejected.map((exampleId) => ({ exampleId, action: 'reject' as const })),
    });
    const kept = file.examples.filter((e) => !rejected.includes(e.example.id)).map((e) => e.example);
    const graph = await readDatasetOntology(h.artifacts, TENANT, parent.id);
    const { examplesByConcept: _omitted, ...summary } = datasetCoverage(graph ?? { concepts: [], relations: [] }, kept);
    expect(result.dataset.conceptCoverage).toEqual(summary);
    expect(result.report.conceptCoverage).toEqual(summary);
  }, 30_000);

  it('leaves generation as it was when the values file’s target is met, and runs the steering pass when it is not', async () => {
    const base = {
      contextId: 'acme-conduct',
      documentId: 'acme-cg',
      mediaType: 'text/markdown' as const,
      content: POLICY,
      seedsJsonl: SEEDS,
      seed: 7,
      heldOutRatio: 0.2,
    };
    const plain = frameDocument({ ...base, values: valuesWith({}) });
    expect(plain.ontology).toBeNull();
    expect(plain.generation.steered).toBeNull();
    const met = frameDocument({ ...base, values: valuesWith({ min_concept_coverage: 0.1 }) });
    expect(met.ontology?.concepts.length).toBeGreaterThan(0);
    expect(met.generation.steered).toBeNull();
    expect(met.version.id).toBe(plain.version.id);
    expect(met.version.sha256).toBe(plain.version.sha256);
    // A rule the templates cannot render (an action of five verbs): its concepts stay uncovered, the steering pass says so.
    const unmet = frameDocument({
      ...base,
      content: `${POLICY}\n**2.4** Contractors must not offer, promise, give, accept or request a bribe.\n`,
      values: valuesWith({ min_concept_coverage: 1 }),
    });
    expect(unmet.generation.steered).toMatchObject({ met: false });
    const left = datasetCoverage(unmet.ontology ?? { concepts: [], relations: [] }, [...unmet.version.train, ...unmet.version.heldOut]);
    expect(left.uncoveredConcepts.some((id) => id.includes('bribe'))).toBe(true);
    expect(left.concepts.share).toBeLessThan(1);

    // The generated version with a target that the usual pass meets is the same dataset, now with its coverage measured.
    const { framed } = await frameAndPublish(h);
    const generate = (values: ContextValues | null) =>
      generateDatasetVersion(h, {
        tenant: TENANT,
        contextId: 'acme-conduct',
        documentId: framed.document.id,
        values,
        seedsJsonl: SEEDS,
        seed: 7,
        heldOutRatio: 0.2,
        full: true,
      });
    const untargeted = await generate(valuesWith({}));
    const targeted = await generate(valuesWith({ min_concept_coverage: 0.1 }));
    expect(targeted.dataset.id).toBe(untargeted.dataset.id);
    expect(targeted.dataset.conceptCoverage).toEqual(untargeted.dataset.conceptCoverage);
  }, 30_000);

  it('makes a teacher with a clause budget cover the concepts the templates left uncovered, when the values file sets a target', async () => {
    const policy = `${POLICY}\n**2.4** Contractors must not offer, promise, give, accept or request a bribe.\n`;
    const { framed } = await frameAndPublish(h, { policy });
    const prompted: string[] = [];
    // A teacher that restates the clause it is asked about, citing it.
    const teacher = {
      model: 'restating-teacher',
      llm: {
        chat: async (request: ChatRequest): Promise<ChatResult> => {
          const user = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
          const [, numbering = '', text = ''] = /^\[§([\d.]+)\] (.*)$/m.exec(user) ?? [];
          prompted.push(numbering);
          const rule = text.replace(/\.$/, '');
          const example = {
            question: `Is it true that ${rule.charAt(0).toLowerCase()}${rule.slice(1)}?`,
            answer: `Yes. ${rule} (§${numbering}).`,
          };
          return { id: 'x', model: request.model, content: JSON.stringify({ examples: [example] }), finishReason: 'stop', usage: null };
        },
      },
    };
    const generate = (values: ContextValues) =>
      generateDatasetVersion(h, {
        tenant: TENANT,
        contextId: 'acme-conduct',
        documentId: framed.document.id,
        values,
        seedsJsonl: SEEDS,
        seed: 7,
        heldOutRatio: 0.2,
        full: true,
        synthesis: { teacher, settings: { maxClauses: 1, kinds: ['qa'], concurrency: 1 } },
      });
    const plain = await generate(valuesWith({}));
    expect(prompted).toEqual(['1.1']);
    prompted.length = 0;
    const steered = await generate(valuesWith({ min_concept_coverage: 1 }));
    expect(prompted).toEqual(['2.4']);
    expect(plain.synthesis?.kept).toBe(1);
    expect(steered.synthesis?.kept).toBe(1);
    const before = plain.dataset.conceptCoverage;
    const after = steered.dataset.conceptCoverage;
    expect(after?.concepts.covered).toBeGreaterThan(before?.concepts.covered ?? Infinity);
    expect(after?.uncoveredConcepts.some((id) => id.includes('bribe'))).toBe(false);
    expect(before?.uncoveredConcepts.some((id) => id.includes('bribe'))).toBe(true);
  }, 30_000);
});
