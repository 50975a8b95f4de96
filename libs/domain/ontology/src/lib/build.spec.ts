import { extractStatements, parseDocument } from '@studio/framing';
import { buildOntology } from './build';
import { diffGraphs, relationCounts } from './graph';
import type { ExtractedGraph, OntologySource } from './model';

function source(documentId: string, text: string, version = 1): OntologySource {
  const tree = parseDocument(text, { documentId, mediaType: 'text/markdown' });
  return { documentId, sha256: tree.sha256, version, tree, statements: extractStatements(tree) };
}

const HANDBOOK = `# Fleet Handbook

## 1. Definitions

**1.1** "Vehicle" means any car, van or truck owned or leased by the Operator.

**1.2** "Driver" means a person employed by the Operator who holds a valid licence.

**1.3** "Fuel Card" means a payment card (FC) issued to a Driver for buying fuel.

## 2. Use of vehicles

**2.1** Drivers must inspect the Vehicle before every journey.

**2.2** Drivers must not carry passengers in a Vehicle.

**2.3** Drivers may carry passengers in a Vehicle when the Operator has approved it in writing.

**2.4** Drivers are not required to inspect the Vehicle after a journey of less than ten miles, as set out in section 2.1.

**2.5** Drivers must report every accident to the Operator within one day.
`;

const RULES = `# Records Rule

## § 9.1 Keeping records.

(a) *Standard.* A regulated firm must keep customer records (CR) for six years.

(b) *Exception.* A regulated firm is not required to keep customer records of a closed account longer than two years, notwithstanding paragraph (a) of this section.

(c) A regulated firm may destroy customer records of a deceased customer.

(d) Except as provided in paragraph (e) of this section, a regulated firm must not sell customer records.

(e) A regulated firm may sell customer records to a successor firm.

(f) Notwithstanding paragraph (c) of this section, a regulated firm is not permitted to destroy customer records under investigation.
`;

function concept(g: ExtractedGraph, label: string) {
  const c = g.concepts.find((x) => x.prefLabel === label);
  if (!c) throw new Error(`no concept ${label}; have ${g.concepts.map((x) => x.prefLabel).join(', ')}`);
  return c;
}

describe('buildOntology', () => {
  const handbook = source('fleet', HANDBOOK);
  const graph = buildOntology([handbook]);

  it('finds every defined term with its definition and clause', () => {
    const vehicle = concept(graph, 'vehicle');
    expect(vehicle.roles).toContain('term');
    expect(vehicle.definition?.text).toMatch(/^any car, van or truck/);
    expect(vehicle.definition?.clauseId).toMatch(/^fleet:1\.1:/);
    expect(concept(graph, 'driver').definition?.clauseId).toMatch(/^fleet:1\.2:/);
    expect(concept(graph, 'fuel card').definition).not.toBeNull();
    const defines = graph.relations.filter((r) => r.type === 'defines');
    expect(defines.map((r) => r.to).sort()).toEqual(['c-driver', 'c-fuel-card', 'c-vehicle']);
  });

  it('reads actors (singular, without articles), actions (verb lemma + object) and objects', () => {
    const driver = concept(graph, 'driver');
    expect(driver.roles).toEqual(['term', 'actor']);
    expect(concept(graph, 'carry passenger').roles).toEqual(['action']);
    expect(concept(graph, 'inspect vehicle').roles).toEqual(['action']);
    expect(concept(graph, 'passenger').roles).toEqual(['object']);
    expect(concept(graph, 'vehicle').roles).toEqual(['term', 'object']);
    expect(graph.concepts.every((c) => !/^(?:a|an|the|any|every) /.test(c.prefLabel))).toBe(true);
  });

  it('links governing clauses with the statement kind', () => {
    const governs = graph.relations.filter((r) => r.type === 'governs' && r.to === 'c-carry-passenger');
    expect(governs.map((r) => r.statementKind).sort()).toEqual(['permission', 'prohibition']);
    for (const r of governs) expect(r.id).toBe(`governs:${r.from}>${r.to}:${r.statementKind}`);
  });

  it('proposes a conflict candidate between a prohibition and a permission of the same act', () => {
    const conflicts = graph.relations.filter((r) => r.type === 'conflictsWith');
    expect(conflicts).toHaveLength(1);
    const [c] = conflicts;
    expect(c?.status).toBe('candidate');
    expect(c?.from).toMatch(/^fleet:2\.2:/);
    expect(c?.to).toMatch(/^fleet:2\.3:/);
  });

  it('links an exception to the clause it names and cross-references to clauses', () => {
    const exception = graph.relations.filter((r) => r.type === 'exceptionOf');
    expect(exception).toHaveLength(1);
    expect(exception[0]?.from).toMatch(/^fleet:2\.4:/);
    expect(exception[0]?.to).toMatch(/^fleet:2\.1:/);
    expect(graph.relations.some((r) => r.type === 'refersTo' && /^fleet:2\.4:/.test(r.from) && /^fleet:2\.1:/.test(r.to))).toBe(true);
  });

  it('relates broader concepts from compounds and definitions', () => {
    // "Fuel Card means a payment card …": fuel card is narrower than payment card? only if that is a concept; "card" is not.
    const broader = graph.relations.filter((r) => r.type === 'broader');
    for (const r of broader) {
      expect(graph.concepts.some((c) => c.id === r.from)).toBe(true);
      expect(graph.concepts.some((c) => c.id === r.to)).toBe(true);
    }
  });

  it('learns abbreviations from the text and merges documents', () => {
    const rules = source('records', RULES);
    const g = buildOntology([rules, handbook]);
    const records = concept(g, 'customer record');
    expect(records.altLabels).toEqual(['CR']);
    expect(concept(g, 'regulated firm').roles).toContain('actor');
    // (b) carves out of (a): named by "paragraph (a) of this section".
    const exception = g.relations.find((r) => r.type === 'exceptionOf' && r.from.startsWith('records:9.1.b:'));
    expect(exception?.to).toMatch(/^records:9\.1\.a:/);
    // "(d) Except as provided in paragraph (e) …": (e) is an exception of (d), and so no conflict candidate.
    const pointer = g.relations.find((r) => r.type === 'exceptionOf' && r.from.startsWith('records:9.1.e:'));
    expect(pointer?.to).toMatch(/^records:9\.1\.d:/);
    expect(pointer?.evidence[0]).toMatch(/^records:9\.1\.d:.*:s\d+$/);
    expect(g.relations.filter((r) => r.type === 'conflictsWith' && r.from.startsWith('records:9.1.d:'))).toEqual([]);
    // "(f) Notwithstanding paragraph (c) …" is no exception statement, but cites (c).
    expect(g.relations.some((r) => r.type === 'refersTo' && r.from.startsWith('records:9.1.f:') && r.to.startsWith('records:9.1.c:'))).toBe(true);
    // the same input in another order gives the same graph.
    expect(buildOntology([handbook, rules])).toEqual(g);
    const ids = g.concepts.map((c) => c.id);
    expect([...ids].sort()).toEqual(ids);
    expect(g.concepts.find((c) => c.id === 'c-driver')?.documentIds).toEqual(['fleet']);
  });

  it('rejects a document given twice with a clear error', () => {
    expect(() => buildOntology([handbook, handbook])).toThrow(/document fleet is given twice/);
  });
});

const GLOSSARY = `# Depot Rules

## 1. Definitions

In this policy:

- **Vehicle**: any car, van or truck owned by the Operator.
- *Driver* – a person employed by the Operator who holds a valid licence.
- Personal Identification Number (PIN) means the code that unlocks a fuel card.
- "Trailer" means a vehicle without its own engine that a Vehicle tows.

## 2. Rules

**2.1** Drivers must not share their PIN with anyone.

**2.2** A Driver must keep the Vehicle at the depot. Vehicle includes trailers and caravans.

**2.3** A Driver must report every spill, leak or breakdown to the depot manager.

**2.4** A Driver must report any spill or leak to the fire service.
`;

describe('buildOntology on definition lists, abbreviations and includes', () => {
  const g = buildOntology([source('depot', GLOSSARY)]);

  it('reads terms from list entries without a "means" (colon, dash) and keeps their definitions', () => {
    expect(concept(g, 'vehicle').definition?.text).toBe('any car, van or truck owned by the Operator');
    expect(concept(g, 'driver').definition?.text).toBe('a person employed by the Operator who holds a valid licence');
    expect(concept(g, 'driver').definition?.clauseId).toMatch(/^depot:1\.i2:/);
    // a "means" definition wins over "Vehicle includes trailers …".
    expect(concept(g, 'vehicle').definition?.clauseId).toMatch(/^depot:1\.i1:/);
  });

  it('makes an abbreviation the altLabel of its long form and resolves it in rules', () => {
    const pin = concept(g, 'personal identification number');
    expect(pin.altLabels).toEqual(['PIN']);
    expect(g.concepts.some((c) => c.prefLabel === 'PIN')).toBe(false);
    expect(concept(g, 'share personal identification number').roles).toEqual(['action']);
  });

  it('derives broader from "X means a Y …" and "X includes Y" when both are concepts', () => {
    // "Trailer" means a vehicle …: trailer is narrower than vehicle (from the definition, and again from "Vehicle includes trailers").
    const broader = g.relations.filter((r) => r.type === 'broader' && r.from === 'c-trailer');
    expect(broader.map((r) => r.to)).toEqual(['c-vehicle']);
    expect(broader[0]?.evidence.length).toBe(2);
  });

  it('relates objects named together, each pair once (lower id first)', () => {
    const related = g.relations.filter((r) => r.type === 'related').map((r) => `${r.from}~${r.to}`);
    expect(related).toContain('c-leak~c-spill');
    for (const r of g.relations.filter((x) => x.type === 'related')) expect(r.from < r.to).toBe(true);
  });
});

describe('diffGraphs and relationCounts', () => {
  const before = buildOntology([source('fleet', HANDBOOK)]);
  const after = buildOntology([
    source('fleet', HANDBOOK.replace('**2.5** Drivers must report every accident to the Operator within one day.\n', '')),
  ]);

  it('lists concepts and relations added and removed', () => {
    const diff = diffGraphs(before, after);
    expect(diff.conceptsRemoved).toContain('c-report-accident');
    expect(diff.conceptsAdded).toEqual([]);
    expect(diff.relationsRemoved.some((id) => id.startsWith('governs:') && id.includes('>c-report-accident:obligation'))).toBe(true);
    expect(diffGraphs(null, after).conceptsAdded).toEqual(after.concepts.map((c) => c.id));
    expect(diffGraphs(after, after)).toEqual({ conceptsAdded: [], conceptsRemoved: [], relationsAdded: [], relationsRemoved: [] });
  });

  it('counts every relation type, zero when none', () => {
    const counts = relationCounts(before.relations);
    expect(Object.keys(counts).sort()).toEqual(['broader', 'conflictsWith', 'defines', 'exceptionOf', 'governs', 'refersTo', 'related']);
    expect(counts.defines).toBe(3);
    expect(relationCounts([])).toEqual({ broader: 0, related: 0, defines: 0, governs: 0, exceptionOf: 0, refersTo: 0, conflictsWith: 0 });
  });
});
