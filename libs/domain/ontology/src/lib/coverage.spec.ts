import { extractStatements, generateExamplesWithReport, parseDocument, type NormativeKind } from '@studio/framing';
import { buildOntology } from './build';
import { CoverageTracker, datasetCoverage, type CoverageExample } from './coverage';

const HANDBOOK = `# Fleet Handbook

## 1. Definitions

**1.1** "Vehicle" means any car, van or truck owned or leased by the Operator.

**1.2** "Fuel Card" means a payment card (FC) issued to a driver for buying fuel.

## 2. Use of vehicles

**2.1** Drivers must inspect the Vehicle before every journey.

**2.2** Drivers must not carry passengers in a Vehicle.

**2.3** Drivers may carry passengers in a Vehicle when the Operator has approved it in writing.

**2.4** Drivers must report every accident to the Operator within one day.
`;

const tree = parseDocument(HANDBOOK, { documentId: 'fleet', mediaType: 'text/markdown' });
const graph = buildOntology([{ documentId: 'fleet', sha256: tree.sha256, version: 1, tree, statements: extractStatements(tree) }]);
const clause = (numbering: string): string => {
  const c = tree.clauses.find((x) => x.numbering === numbering);
  if (!c) throw new Error(`no clause ${numbering}`);
  return c.id;
};

let n = 0;
function example(question: string, answer: string, clauses: string[], statementKind: NormativeKind | null): CoverageExample {
  n += 1;
  return { id: `ex-${n}`, question, answer, clauseIds: clauses.map(clause), statementKind };
}

describe('datasetCoverage', () => {
  it('counts nothing as covered without examples, and lists every concept and governed pair as uncovered', () => {
    const coverage = datasetCoverage(graph, []);
    const pairs = new Set(graph.relations.filter((r) => r.type === 'governs').map((r) => `${r.to}:${r.statementKind}`));
    expect(coverage.concepts).toEqual({ covered: 0, total: graph.concepts.length, share: 0 });
    expect(coverage.pairs).toEqual({ covered: 0, total: pairs.size, share: 0 });
    expect(pairs.size).toBeGreaterThan(3);
    expect(coverage.uncoveredConcepts).toEqual(graph.concepts.map((c) => c.id).sort());
    expect(coverage.uncoveredPairs.map((p) => `${p.conceptId}:${p.statementKind}`).sort()).toEqual([...pairs].sort());
    expect(Object.values(coverage.examplesByConcept).every((ids) => ids.length === 0)).toBe(true);
  });

  it('counts a concept named in a question or an answer (any case, plural, inside a longer label), or defined or governed by a cited clause', () => {
    // Names "Fuel Card" while citing a clause that neither defines nor governs it.
    const named = example('Can a driver pay with the Fuel Card before a journey?', 'Inspect first (§2.1).', ['2.1'], 'obligation');
    // Names "vehicle" only inside the action "inspect vehicles".
    const nested = example('Must drivers inspect vehicles?', 'Yes (§2.1).', ['2.1'], 'obligation');
    // Names nothing, but cites the rule on accidents: its answer restates that rule.
    const cited = example('What does this clause ask within a day?', 'To tell someone within one day (§2.4).', ['2.4'], 'obligation');
    const coverage = datasetCoverage(graph, [named, nested, cited]);
    expect(coverage.examplesByConcept['c-fuel-card']).toEqual([named.id]);
    expect(coverage.examplesByConcept['c-vehicle']).toEqual(expect.arrayContaining([nested.id]));
    expect(coverage.examplesByConcept['c-vehicle']).not.toContain(cited.id);
    const ofRule = graph.relations
      .filter((r) => (r.type === 'governs' || r.type === 'defines') && r.from === clause('2.4'))
      .map((r) => r.to);
    expect(ofRule.length).toBeGreaterThan(0);
    for (const id of ofRule) expect(coverage.examplesByConcept[id]).toContain(cited.id);
    // Only what is named or linked: the fuel card's definition clause is not cited, so the third example does not cover it.
    expect(coverage.examplesByConcept['c-fuel-card']).not.toContain(cited.id);
    expect(coverage.concepts.covered).toBe(Object.values(coverage.examplesByConcept).filter((ids) => ids.length > 0).length);
    expect(coverage.concepts.share).toBeCloseTo(coverage.concepts.covered / coverage.concepts.total, 10);
  });

  it('counts a governed pair only with the governing clause cited and the same statement kind (any kind for an example without one)', () => {
    const pair = (c: ReturnType<typeof datasetCoverage>, conceptId: string, kind: NormativeKind): boolean =>
      !c.uncoveredPairs.some((p) => p.conceptId === conceptId && p.statementKind === kind);
    const q = 'May drivers carry passengers in a vehicle?';
    const uncited = datasetCoverage(graph, [example(q, 'No.', ['2.1'], 'prohibition')]);
    expect(pair(uncited, 'c-carry-passenger', 'prohibition')).toBe(false);
    expect(uncited.examplesByConcept['c-carry-passenger']).toHaveLength(1);
    const prohibition = datasetCoverage(graph, [example(q, 'No (§2.2).', ['2.2'], 'prohibition')]);
    expect(pair(prohibition, 'c-carry-passenger', 'prohibition')).toBe(true);
    expect(pair(prohibition, 'c-carry-passenger', 'permission')).toBe(false);
    const wrongKind = datasetCoverage(graph, [example(q, 'No (§2.2).', ['2.2'], 'permission')]);
    expect(pair(wrongKind, 'c-carry-passenger', 'prohibition')).toBe(false);
    const seed = datasetCoverage(graph, [example(q, 'Only with approval (§2.2, §2.3).', ['2.2', '2.3'], null)]);
    expect(pair(seed, 'c-carry-passenger', 'prohibition')).toBe(true);
    expect(pair(seed, 'c-carry-passenger', 'permission')).toBe(true);
  });

  it('is deterministic and lists examples once per concept', () => {
    const e = example('Vehicle, vehicles and the vehicle?', 'A vehicle (§1.1).', ['1.1'], 'definition');
    const once = datasetCoverage(graph, [e]);
    expect(once.examplesByConcept['c-vehicle']).toEqual([e.id]);
    expect(datasetCoverage(graph, [e])).toEqual(once);
  });
});

describe('CoverageTracker', () => {
  it('is met at the target share of the concepts, never without a target or on an empty graph', () => {
    const all = graph.concepts.map((c) => `${c.prefLabel}.`).join(' ');
    const tracker = new CoverageTracker(graph, 0.5);
    expect(tracker.met()).toBe(false);
    tracker.add([example(all, 'Everything (§2.1).', ['2.1'], 'obligation')]);
    expect(tracker.conceptShare()).toBe(1);
    expect(tracker.met()).toBe(true);
    const untargeted = new CoverageTracker(graph);
    untargeted.add([example(all, 'Everything.', ['2.1'], 'obligation')]);
    expect(untargeted.met()).toBe(false);
    expect(new CoverageTracker({ concepts: [], relations: [] }, 0).met()).toBe(false);
    expect(() => new CoverageTracker(graph, 1.5)).toThrow(/target is a share within \[0, 1\], got 1.5/);
  });

  it('gains from a clause until what it concerns is covered', () => {
    const tracker = new CoverageTracker(graph, 1);
    const before = tracker.gain({ clauseId: clause('2.2'), kind: 'prohibition' });
    expect(before).toBeGreaterThan(0);
    expect(tracker.gain({ clauseId: 'no-such-clause', kind: 'obligation' })).toBe(0);
    tracker.add([example('Must drivers not carry passengers in a vehicle?', 'They must not (§2.2).', ['2.2'], 'prohibition')]);
    expect(tracker.gain({ clauseId: clause('2.2'), kind: 'prohibition' })).toBeLessThan(before);
  });

  it('chooses the clauses that cover the most uncovered concepts within a budget, in their order; the first ones without a target', () => {
    const clauses = tree.clauses;
    const untargeted = new CoverageTracker(graph);
    expect(untargeted.chooseClauses(clauses, 2)).toEqual(clauses.slice(0, 2));
    const tracker = new CoverageTracker(graph, 1);
    // Definitions first in the document; the target prefers the rule clauses that name more concepts.
    tracker.add([example('What is a vehicle? And a fuel card?', 'See §1.1 and §1.2.', ['1.1', '1.2'], 'definition')]);
    const chosen = tracker.chooseClauses(clauses, 2);
    expect(chosen).toHaveLength(2);
    expect(chosen.map((c) => c.numbering)).not.toContain('1.1');
    expect(chosen.map((c) => c.numbering)).not.toContain('1.2');
    expect(chosen.map((c) => clauses.indexOf(c))).toEqual([...chosen.map((c) => clauses.indexOf(c))].sort((a, b) => a - b));
    expect(tracker.chooseClauses(clauses, clauses.length)).toEqual(clauses);
  });

  it('reports per clause the share of the concepts it defines or governs that the data names', () => {
    const tracker = new CoverageTracker(graph);
    tracker.add([example('What is a vehicle?', 'A car, van or truck (§1.1).', ['1.1'], 'definition')]);
    const [defining, unrelated] = tracker.byClause([clause('1.1'), 'no-such-clause']);
    expect(defining).toMatchObject({ clauseId: clause('1.1'), concepts: 1, covered: 1, share: 1, uncovered: [] });
    expect(unrelated).toEqual({ clauseId: 'no-such-clause', concepts: 0, covered: 0, share: null, uncovered: [] });
    const [rule] = tracker.byClause([clause('2.4')]);
    expect(rule?.concepts).toBeGreaterThan(0);
    expect(rule?.share).toBe(0);
  });
});

describe('steering template generation', () => {
  const statements = extractStatements(tree);
  // A small generation budget: no Q&A or scenario template per statement in the usual pass.
  const budget = { seed: 7, qaPerStatement: 0, scenariosPerStatement: 0 };

  it('covers concepts the usual pass leaves uncovered, until the target is met, and no further', () => {
    const plain = generateExamplesWithReport(tree, statements, budget);
    const before = datasetCoverage(graph, plain.examples);
    expect(plain.report.steered).toBeNull();
    expect(before.concepts.share).toBeLessThan(0.8);

    const steering = new CoverageTracker(graph, 0.8);
    const steered = generateExamplesWithReport(tree, statements, { ...budget, steering });
    const after = datasetCoverage(graph, steered.examples);
    expect(after.concepts.share).toBeGreaterThanOrEqual(0.8);
    expect(after.concepts.covered).toBeGreaterThan(before.concepts.covered);
    expect(after.pairs.covered).toBeGreaterThan(before.pairs.covered);
    expect(steered.report.steered).toMatchObject({ met: true });
    expect(steered.report.steered?.kept).toBe(steered.examples.length - plain.examples.length);
    // The usual pass is kept as it was; the steering pass only adds.
    expect(steered.examples.slice(0, plain.examples.length)).toEqual(plain.examples);

    const full = generateExamplesWithReport(tree, statements, { ...budget, steering: new CoverageTracker(graph, 1) });
    expect(datasetCoverage(graph, full.examples).concepts.covered).toBeGreaterThanOrEqual(after.concepts.covered);
    expect(full.examples.length).toBeGreaterThanOrEqual(steered.examples.length);
  });

  it('changes nothing when the target is met by the usual pass (or the seeds)', () => {
    const plain = generateExamplesWithReport(tree, statements, { seed: 7 });
    const met = new CoverageTracker(graph, 0);
    const same = generateExamplesWithReport(tree, statements, { seed: 7, steering: met });
    expect(same.examples).toEqual(plain.examples);
    expect(same.report.steered).toBeNull();
  });
});
