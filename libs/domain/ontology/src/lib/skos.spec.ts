import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'n3';
import type { Quad } from 'n3';
import { Concept, Relation } from '@studio/contracts';
import { extractStatements, parseDocument } from '@studio/framing';
import { buildOntology } from './build';
import type { ExtractedGraph } from './model';
import { conceptId, normaliseLabel } from './labels';
import {
  conceptSchemeIri,
  fromTurtle,
  importDelta,
  mergeImported,
  SKOS_IMPORT_SOURCE,
  SKOS_NS,
  SkosImportError,
  STUDIO_ONTOLOGY_NS,
  toJsonLd,
  toTurtle,
} from './skos';

const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const SKOS_CONCEPT = `${SKOS_NS}Concept`;

const C11 = 'pol:1.1:aaaaaaaaaaaa';
const C21 = 'pol:2.1:bbbbbbbbbbbb';
const C22 = 'pol:2.2:cccccccccccc';
const C31 = 'pol:3.1:dddddddddddd';
const C32 = 'pol:3.2:eeeeeeeeeeee';

function concept(id: string, prefLabel: string, extra: Partial<Concept> = {}): Concept {
  return Concept.parse({
    id,
    prefLabel,
    altLabels: [],
    roles: ['object'],
    definition: null,
    clauseIds: [C21],
    documentIds: ['pol'],
    origin: 'extracted',
    ...extra,
  });
}

function relation(type: Relation['type'], from: string, to: string, extra: Partial<Relation> = {}): Relation {
  const statementKind = extra.statementKind ?? null;
  const id = `${type}:${from}>${to}${type === 'governs' && statementKind ? `:${statementKind}` : ''}`;
  return Relation.parse({
    id,
    type,
    from,
    to,
    statementKind,
    evidence: [],
    status: type === 'conflictsWith' ? 'candidate' : null,
    origin: 'extracted',
    ...extra,
  });
}

/** A graph with every field and relation type in use (governs twice on one pair, a decided conflict). */
function sampleGraph(): ExtractedGraph {
  const concepts = [
    concept('c-gift', 'gift', {
      altLabels: ['present', 'gifts'],
      roles: ['term', 'object'],
      definition: { text: 'Anything of value given without payment, including "tokens" and\nhospitality.', clauseId: C11 },
      clauseIds: [C11, C21],
    }),
    concept('c-business-gift', 'business gift', { clauseIds: [C21, C11] }),
    concept('c-hospitality', 'hospitality', { documentIds: ['pol', 'annex'] }),
    concept('c-employee', 'employee', { roles: ['actor'], clauseIds: [C21, C22] }),
    concept('c-phi', 'PHI', { altLabels: ['protected health information'], roles: ['object', 'term'] }),
  ];
  const relations = [
    relation('broader', 'c-business-gift', 'c-gift', { evidence: [`${C21}:s1`] }),
    relation('related', 'c-gift', 'c-hospitality'),
    relation('defines', C11, 'c-gift', { evidence: [`${C11}:s1`] }),
    relation('governs', C21, 'c-gift', { statementKind: 'prohibition', evidence: [`${C21}:s1`, `${C21}:s2`] }),
    relation('governs', C21, 'c-gift', { statementKind: 'permission', evidence: [`${C21}:s3`] }),
    relation('governs', C21, 'c-employee', { statementKind: 'prohibition', evidence: [`${C21}:s1`] }),
    relation('exceptionOf', C22, C21, { evidence: [`${C22}:s1`] }),
    relation('refersTo', C22, C11),
    relation('conflictsWith', C21, C31, { status: 'confirmed', evidence: [`${C21}:s1`, `${C31}:s1`] }),
    relation('conflictsWith', C31, C32),
  ];
  return { concepts, relations };
}

const withoutOrigin = (g: ExtractedGraph): unknown => ({
  concepts: [...g.concepts].sort((a, b) => a.id.localeCompare(b.id)).map(({ origin: _o, ...c }) => c),
  relations: [...g.relations].sort((a, b) => a.id.localeCompare(b.id)).map(({ origin: _o, ...r }) => r),
});

const parseN3 = (text: string): Quad[] => new Parser({ format: 'text/turtle' }).parse(text);

describe('conceptSchemeIri', () => {
  it('puts the context under the tenant base', () => {
    expect(conceptSchemeIri('urn:studio:', 'gifts-policy')).toBe('urn:studio:context:gifts-policy/');
    expect(conceptSchemeIri('https://studio.example.com/t/acme/', 'ctx.1')).toBe('https://studio.example.com/t/acme/context:ctx.1/');
  });
});

describe('toTurtle', () => {
  it('writes a concept scheme whose concepts n3 reads back with labels, definitions, broader and narrower', async () => {
    const graph = sampleGraph();
    const turtle = await toTurtle({ contextId: 'gifts', ...graph });
    const quads = parseN3(turtle);
    const scheme = conceptSchemeIri('urn:studio:', 'gifts');
    const conceptIri = (id: string): string => `${scheme}concept/${id}`;
    const objects = (s: string, p: string): string[] =>
      quads.filter((q) => q.subject.value === s && q.predicate.value === p).map((q) => q.object.value);

    expect(quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === SKOS_CONCEPT)).toHaveLength(graph.concepts.length);
    expect(objects(scheme, RDF_TYPE)).toEqual([`${SKOS_NS}ConceptScheme`]);
    const prefLabels = quads.filter((q) => q.predicate.value === `${SKOS_NS}prefLabel` && q.subject.value !== scheme);
    expect(prefLabels.map((q) => q.object.value).sort()).toEqual(['PHI', 'business gift', 'employee', 'gift', 'hospitality']);
    expect(prefLabels.every((q) => q.object.termType === 'Literal' && q.object.language === 'en')).toBe(true);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}altLabel`)).toEqual(['present', 'gifts']);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}definition`)).toEqual([
      'Anything of value given without payment, including "tokens" and\nhospitality.',
    ]);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}inScheme`)).toEqual([scheme]);
    // broader and its inverse narrower are both there; related both ways
    expect(objects(conceptIri('c-business-gift'), `${SKOS_NS}broader`)).toEqual([conceptIri('c-gift')]);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}narrower`)).toEqual([conceptIri('c-business-gift')]);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}related`)).toEqual([conceptIri('c-hospitality')]);
    expect(objects(conceptIri('c-hospitality'), `${SKOS_NS}related`)).toEqual([conceptIri('c-gift')]);
    expect(objects(conceptIri('c-gift'), `${SKOS_NS}topConceptOf`)).toEqual([scheme]);
    expect(objects(conceptIri('c-business-gift'), `${SKOS_NS}topConceptOf`)).toEqual([]);
    expect(objects(conceptIri('c-employee'), `${STUDIO_ONTOLOGY_NS}role`)).toEqual([`${STUDIO_ONTOLOGY_NS}actor`]);
    // clause links in the project vocabulary
    const clause = (id: string): string => `${scheme}clause/${id}`;
    expect(objects(clause(C21), RDF_TYPE)).toEqual([`${STUDIO_ONTOLOGY_NS}Clause`]);
    expect(objects(clause(C11), `${STUDIO_ONTOLOGY_NS}defines`)).toEqual([conceptIri('c-gift')]);
    expect(objects(clause(C21), `${STUDIO_ONTOLOGY_NS}governs`).sort()).toEqual([conceptIri('c-employee'), conceptIri('c-gift')]);
    expect(objects(clause(C22), `${STUDIO_ONTOLOGY_NS}exceptionOf`)).toEqual([clause(C21)]);
    expect(objects(clause(C22), `${STUDIO_ONTOLOGY_NS}refersTo`)).toEqual([clause(C11)]);
    expect(objects(clause(C21), `${STUDIO_ONTOLOGY_NS}conflictsWith`)).toEqual([clause(C31)]);
    // governs with its statement kind on a relation node, one per kind
    const kinds = quads
      .filter((q) => q.predicate.value === `${STUDIO_ONTOLOGY_NS}statementKind`)
      .map((q) => q.object.value.slice(STUDIO_ONTOLOGY_NS.length))
      .sort();
    expect(kinds).toEqual(['permission', 'prohibition', 'prohibition']);
    const confirmed = quads.filter(
      (q) => q.predicate.value === `${STUDIO_ONTOLOGY_NS}status` && q.object.value === `${STUDIO_ONTOLOGY_NS}confirmed`,
    );
    expect(confirmed).toHaveLength(1);
  });

  it('describes clauses with their numbering and citation when given, and only the clauses the graph links', async () => {
    const turtle = await toTurtle(
      { contextId: 'gifts', ...sampleGraph() },
      {
        clauses: [
          { id: C21, numbering: '2.1', citation: '§2.1', documentId: 'pol' },
          { id: 'pol:9.9:ffffffffffff', numbering: '9.9' },
        ],
      },
    );
    const quads = parseN3(turtle);
    const numbering = quads.filter((q) => q.predicate.value === `${STUDIO_ONTOLOGY_NS}numbering`);
    expect(numbering.map((q) => [q.subject.value, q.object.value])).toEqual([[`urn:studio:context:gifts/clause/${C21}`, '2.1']]);
    expect(quads.some((q) => q.predicate.value === `${STUDIO_ONTOLOGY_NS}citation` && q.object.value === '§2.1')).toBe(true);
    expect(turtle).not.toContain('9.9');
  });

  it('is deterministic whatever the input order', async () => {
    const graph = sampleGraph();
    const a = await toTurtle({ contextId: 'gifts', ...graph });
    const b = await toTurtle({ contextId: 'gifts', concepts: [...graph.concepts].reverse(), relations: [...graph.relations].reverse() });
    expect(b).toBe(a);
  });

  it('refuses a relation to a concept the graph does not have', async () => {
    const graph = sampleGraph();
    await expect(
      toTurtle({ contextId: 'gifts', concepts: graph.concepts, relations: [relation('broader', 'c-gift', 'c-nowhere')] }),
    ).rejects.toThrow(/broader:c-gift>c-nowhere refers to concept c-nowhere/);
  });
});

describe('SKOS round trip', () => {
  it('export → n3 → import gives the same concepts and relations (origin becomes imported)', async () => {
    const graph = sampleGraph();
    const turtle = await toTurtle({ contextId: 'gifts', ...graph });
    expect(parseN3(turtle).length).toBeGreaterThan(50);
    const back = await fromTurtle(turtle);
    expect(withoutOrigin(back)).toEqual(withoutOrigin(graph));
    expect(back.concepts.every((c) => c.origin === 'imported')).toBe(true);
    expect(back.relations.every((r) => r.origin === 'imported')).toBe(true);
    expect(back.concepts.map((c) => c.id)).toEqual([...back.concepts.map((c) => c.id)].sort());
    // and once more: a second export of the import is the first one with origin imported
    const again = await toTurtle({ contextId: 'gifts', ...back });
    expect(again).toBe(turtle.replace(/studio:extracted/g, 'studio:imported'));
  });

  it('round-trips under another tenant base when the import is told the base', async () => {
    const graph = sampleGraph();
    const base = 'https://studio.example.com/t/acme/';
    const turtle = await toTurtle({ contextId: 'gifts', ...graph }, { base });
    expect(turtle).toContain('https://studio.example.com/t/acme/context:gifts/');
    expect(withoutOrigin(await fromTurtle(turtle, { base }))).toEqual(withoutOrigin(graph));
  });

  it('round-trips the graph buildOntology makes of a small document', async () => {
    const text = `# Gifts and Hospitality Policy

## 1. Definitions

**1.1** "Gift" means anything of value given to an employee by a supplier, including tickets and meals.

**1.2** "Supplier" means any company that sells goods or services to the Company.

## 2. Rules

**2.1** Employees must not accept a gift from a supplier during a tender.

**2.2** Employees may accept a gift worth less than 50 EUR, except as provided in 2.1.

**2.3** Managers must record every gift in the gift register.
`;
    const tree = parseDocument(text, { documentId: 'gifts', mediaType: 'text/markdown' });
    const built = buildOntology([{ documentId: 'gifts', sha256: tree.sha256, version: 1, tree, statements: extractStatements(tree) }]);
    expect(built.concepts.length).toBeGreaterThan(2);
    expect(built.relations.length).toBeGreaterThan(2);
    const clauses = tree.clauses.map((c) => ({ id: c.id, numbering: c.numbering, citation: c.citation, documentId: c.documentId }));
    const turtle = await toTurtle({ contextId: 'gifts', ...built }, { clauses });
    const quads = parseN3(turtle);
    expect(quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === SKOS_CONCEPT)).toHaveLength(built.concepts.length);
    expect(quads.some((q) => q.predicate.value === `${STUDIO_ONTOLOGY_NS}numbering` && q.object.value === '2.1')).toBe(true);
    expect(withoutOrigin(await fromTurtle(turtle))).toEqual(withoutOrigin(built));
  });
  it('round-trips the graph of the example context’s policy', async () => {
    const text = readFileSync(join(__dirname, '../../../../../examples/northwind-conduct/policy.md'), 'utf8');
    const tree = parseDocument(text, { documentId: 'northwind', mediaType: 'text/markdown' });
    const built = buildOntology([{ documentId: 'northwind', sha256: tree.sha256, version: 1, tree, statements: extractStatements(tree) }]);
    expect(built.concepts.length).toBeGreaterThan(50);
    const turtle = await toTurtle({ contextId: 'northwind', ...built });
    const quads = parseN3(turtle);
    expect(quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === SKOS_CONCEPT)).toHaveLength(built.concepts.length);
    expect(quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === `${STUDIO_ONTOLOGY_NS}Relation`)).toHaveLength(
      built.relations.length,
    );
    expect(withoutOrigin(await fromTurtle(turtle))).toEqual(withoutOrigin(built));
  }, 60_000);
});

describe('toJsonLd', () => {
  /** Expands the compact IRIs of our JSON-LD with its @context into N-Triples-like strings. */
  function triplesOf(doc: Record<string, unknown>): string[] {
    const context = doc['@context'] as Record<string, string>;
    const expand = (value: string): string => {
      const colon = value.indexOf(':');
      const prefix = colon > 0 ? value.slice(0, colon) : '';
      return prefix in context ? `${context[prefix]}${value.slice(colon + 1)}` : value;
    };
    const out: string[] = [];
    for (const node of doc['@graph'] as Array<Record<string, unknown>>) {
      const s = expand(node['@id'] as string);
      for (const [key, raw] of Object.entries(node)) {
        if (key === '@id') continue;
        for (const v of Array.isArray(raw) ? raw : [raw]) {
          if (key === '@type') out.push(`<${s}> <${RDF_TYPE}> <${expand(v as string)}>`);
          else if (typeof v === 'string') out.push(`<${s}> <${expand(key)}> ${JSON.stringify(v)}`);
          else if ('@id' in v) out.push(`<${s}> <${expand(key)}> <${expand(v['@id'])}>`);
          else out.push(`<${s}> <${expand(key)}> ${JSON.stringify(v['@value'])}@${v['@language']}`);
        }
      }
    }
    return out.sort();
  }

  it('has a @context for its prefixes, every concept as a node with @id and @type, and the Turtle’s triples', async () => {
    const graph = sampleGraph();
    const doc = toJsonLd({ contextId: 'gifts', ...graph });
    const context = doc['@context'] as Record<string, string>;
    expect(context).toMatchObject({ skos: SKOS_NS, studio: STUDIO_ONTOLOGY_NS, concept: 'urn:studio:context:gifts/concept/' });
    const nodes = doc['@graph'] as Array<Record<string, unknown>>;
    for (const c of graph.concepts) {
      const node = nodes.find((n) => n['@id'] === `concept:${c.id}`);
      expect(node).toBeDefined();
      expect(node?.['@type']).toBe('skos:Concept');
      const label = node?.['skos:prefLabel'];
      expect(label).toEqual({ '@value': c.prefLabel, '@language': 'en' });
    }
    const gift = nodes.find((n) => n['@id'] === 'concept:c-gift') as Record<string, unknown>;
    expect(gift['skos:narrower']).toEqual({ '@id': 'concept:c-business-gift' });
    expect(gift['skos:altLabel']).toEqual([
      { '@value': 'present', '@language': 'en' },
      { '@value': 'gifts', '@language': 'en' },
    ]);
    expect(nodes.find((n) => n['@type'] === 'skos:ConceptScheme')?.['@id']).toBe('urn:studio:context:gifts/');

    const turtle = parseN3(await toTurtle({ contextId: 'gifts', ...graph }));
    const fromTurtleQuads = turtle
      .map((q) => {
        const o =
          q.object.termType === 'NamedNode'
            ? `<${q.object.value}>`
            : `${JSON.stringify(q.object.value)}${q.object.termType === 'Literal' && q.object.language ? `@${q.object.language}` : ''}`;
        return `<${q.subject.value}> <${q.predicate.value}> ${o}`;
      })
      .sort();
    expect(triplesOf(doc)).toEqual(fromTurtleQuads);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});

describe('fromTurtle on SKOS from other tools', () => {
  const FOREIGN = `@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/thesaurus/> .

ex:scheme a skos:ConceptScheme ; skos:prefLabel "Thesaurus"@en .
ex:t1 a skos:Concept ; skos:inScheme ex:scheme ;
  skos:prefLabel "Gifts"@en , "Cadeaux"@fr ;
  skos:altLabel "presents"@en , "dons"@fr ;
  skos:definition "Things of value given freely."@en ;
  skos:narrower ex:t2 ;
  skos:related ex:t3 .
ex:t2 a skos:Concept ; skos:prefLabel "Business gifts" .
ex:t3 a skos:Concept ; skos:prefLabel "Hospitality"@en ; skos:related ex:t1 .
`;

  it('derives ids from the preferred labels, turns narrower into broader and reads related once', async () => {
    const g = await fromTurtle(FOREIGN);
    const ids = ['Gifts', 'Business gifts', 'Hospitality'].map((l) => conceptId(normaliseLabel(l)));
    expect(g.concepts.map((c) => c.id)).toEqual([...ids].sort());
    const gift = g.concepts.find((c) => c.id === ids[0]) as Concept;
    expect(gift).toEqual({
      id: ids[0],
      prefLabel: normaliseLabel('Gifts'),
      altLabels: ['presents'],
      roles: ['term'],
      definition: { text: 'Things of value given freely.', clauseId: SKOS_IMPORT_SOURCE },
      clauseIds: [],
      documentIds: [],
      origin: 'imported',
    });
    expect(g.relations.map((r) => [r.type, r.from, r.to])).toEqual(
      [
        ['broader', ids[1], ids[0]],
        ['related', ...[ids[0], ids[2]].sort()],
      ].sort((a, b) => `${a.join(' ')}`.localeCompare(b.join(' '))),
    );
    expect(g.relations.every((r) => r.origin === 'imported' && r.evidence.length === 0 && r.status === null)).toBe(true);
    // the import exports again and reads back the same
    expect(withoutOrigin(await fromTurtle(await toTurtle({ contextId: 'x', ...g })))).toEqual(withoutOrigin(g));
  });

  it('reads a concept in the language of its prefLabel, untagged values with it', async () => {
    const g = await fromTurtle(`@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://x/1> a skos:Concept ; skos:prefLabel "Geschenk"@de ; skos:altLabel "Präsent"@de, "gift", "cadeau"@fr ;
  skos:definition "Eine Zuwendung."@de .
`);
    expect(g.concepts[0]).toMatchObject({
      prefLabel: normaliseLabel('Geschenk'),
      altLabels: ['Präsent', 'gift'],
      definition: { text: 'Eine Zuwendung.' },
    });
    await expect(
      fromTurtle(
        '<http://x/1> a <http://www.w3.org/2004/02/skos/core#Concept> ; <http://www.w3.org/2004/02/skos/core#prefLabel> "a"@de, "b"@fr .',
      ),
    ).rejects.toThrow(/<http:\/\/x\/1> has prefLabels in several languages and none in English or untagged/);
  });

  it('keeps a definition read without a clause as such through export and import, next to a defines link', async () => {
    const graph: ExtractedGraph = {
      concepts: [
        concept('c-gift', 'gift', { definition: { text: 'A curated definition.', clauseId: SKOS_IMPORT_SOURCE }, origin: 'imported' }),
      ],
      relations: [relation('defines', C11, 'c-gift')],
    };
    const turtle = await toTurtle({ contextId: 'gifts', ...graph });
    expect(turtle).not.toContain(SKOS_IMPORT_SOURCE);
    expect(withoutOrigin(await fromTurtle(turtle))).toEqual(withoutOrigin(graph));
  });

  it('reads hand-written project links: a plain conflictsWith is a candidate, governs without a kind has none', async () => {
    const g = await fromTurtle(`@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix studio: <${STUDIO_ONTOLOGY_NS}> .
<http://x/gift> a skos:Concept ; skos:prefLabel "gift" ; studio:role studio:object, "term" .
<http://x/c2> a studio:Clause ; studio:clauseId "doc:2" ; studio:governs <http://x/gift> ; studio:conflictsWith <http://x/c1> .
<http://x/c1> a studio:Clause ; studio:clauseId "doc:1" ; studio:defines <http://x/gift> .
`);
    expect(g.concepts[0]).toMatchObject({ id: 'c-gift', roles: ['object', 'term'] });
    expect(g.relations.map((r) => [r.id, r.statementKind, r.status])).toEqual([
      ['conflictsWith:doc:1>doc:2', null, 'candidate'],
      ['defines:doc:1>c-gift', null, null],
      ['governs:doc:2>c-gift', null, null],
    ]);
  });
});

describe('fromTurtle errors', () => {
  const head = `@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n@prefix studio: <${STUDIO_ONTOLOGY_NS}> .\n@prefix ex: <http://example.org/> .\n`;
  const fails = async (text: string, message: RegExp): Promise<void> => {
    const error = await fromTurtle(text).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkosImportError);
    expect((error as Error).message).toMatch(message);
  };

  it('names the line of a syntax error', async () => {
    await fails(
      `${head}ex:a a skos:Concept ;\n  skos:prefLabel "gift" .\nex:b a skos:Concept ; skos:prefLabel "unterminated .\n`,
      /syntax error.*line 6/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; nope:x ex:b .\n`,
      /syntax error.*Undefined prefix "nope:" on line 4/,
    );
  });

  it('refuses a file without concepts, and an empty one', async () => {
    await fails('', /empty/);
    await fails(`${head}ex:s a skos:ConceptScheme .\n`, /no skos:Concept/);
  });

  it('refuses a concept without a prefLabel, or with two in one language', async () => {
    await fails(`${head}ex:a a skos:Concept ; skos:altLabel "x" .\n`, /concept <http:\/\/example.org\/a> has no skos:prefLabel/);
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "x"@en, "y"@en .\n`,
      /<http:\/\/example.org\/a> has 2 skos:prefLabel values in one language/,
    );
    await fails(`${head}ex:a a skos:Concept ; skos:prefLabel ex:x .\n`, /skos:prefLabel of <http:\/\/example.org\/a> must be a literal/);
  });

  it('refuses links to concepts that are not in the file', async () => {
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; skos:broader ex:b .\n`,
      /skos:broader of <http:\/\/example.org\/a> names <http:\/\/example.org\/b>, which is not a skos:Concept/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; skos:related "b" .\n`,
      /skos:related of <http:\/\/example.org\/a> must be an IRI/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" .\nex:c studio:clauseId "d:1" ; studio:governs ex:zz .\n`,
      /studio:governs of <http:\/\/example.org\/c> names <http:\/\/example.org\/zz>/,
    );
  });

  it('refuses two concepts that are one, a concept broader than itself, unknown roles and bad relation nodes', async () => {
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "Gifts" .\nex:b a skos:Concept ; skos:prefLabel "gift" .\n`,
      /concepts <http:\/\/example.org\/a> and <http:\/\/example.org\/b> are the same concept c-gift/,
    );
    await fails(`${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; skos:broader ex:a .\n`, /broader relation from c-alpha to itself/);
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; studio:role studio:villain .\n`,
      /studio:role of <http:\/\/example.org\/a> is <.*villain>; expected one of studio:term/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" .\nex:c studio:clauseId "d:1" .\nex:r a studio:Relation ; studio:relationType studio:governs ; studio:source ex:c ; studio:target ex:a .\n`,
      /relation <http:\/\/example.org\/r>: a governs relation needs a studio:statementKind/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" .\nex:r a studio:Relation ; studio:relationType studio:likes ; studio:source ex:a ; studio:target ex:a .\n`,
      /relation <http:\/\/example.org\/r> has studio:relationType <.*likes>; expected one of skos:broader/,
    );
    await fails(
      `${head}ex:a a skos:Concept ; skos:prefLabel "alpha" ; studio:mentionedIn ex:nowhere .\n`,
      /studio:mentionedIn of concept <http:\/\/example.org\/a> names the clause <http:\/\/example.org\/nowhere>, which has no studio:clauseId/,
    );
  });
});

describe('mergeImported', () => {
  it('replaces labels, definition and roles of a known concept, adds new concepts and relations, sorted', () => {
    const extracted = sampleGraph();
    const before = JSON.stringify(extracted);
    const imported: ExtractedGraph = {
      concepts: [
        concept('c-gift', 'gift', {
          altLabels: ['gratuity'],
          roles: ['object'],
          definition: { text: 'Anything of value.', clauseId: SKOS_IMPORT_SOURCE },
          clauseIds: ['pol:4.1:ffffffffffff'],
          documentIds: [],
          origin: 'imported',
        }),
        concept('c-bribe', 'bribe', { roles: ['term'], clauseIds: [], documentIds: [], origin: 'imported' }),
      ],
      relations: [
        relation('broader', 'c-bribe', 'c-gift', { origin: 'imported' }),
        relation('conflictsWith', C31, C32, { status: 'dismissed', evidence: ['curator'], origin: 'imported' }),
      ],
    };
    const merged = mergeImported(extracted, imported);
    expect(JSON.stringify(extracted)).toBe(before);
    expect(merged.concepts.map((c) => c.id)).toEqual(['c-bribe', 'c-business-gift', 'c-employee', 'c-gift', 'c-hospitality', 'c-phi']);
    const gift = merged.concepts.find((c) => c.id === 'c-gift') as Concept;
    expect(gift).toEqual({
      id: 'c-gift',
      prefLabel: 'gift',
      altLabels: ['gratuity'],
      roles: ['object'],
      definition: { text: 'Anything of value.', clauseId: SKOS_IMPORT_SOURCE },
      clauseIds: [C11, C21, 'pol:4.1:ffffffffffff'],
      documentIds: ['pol'],
      origin: 'imported',
    });
    expect(merged.concepts.find((c) => c.id === 'c-employee')?.origin).toBe('extracted');
    expect(merged.concepts.find((c) => c.id === 'c-bribe')?.origin).toBe('imported');
    expect(merged.relations.map((r) => r.id)).toEqual([...merged.relations.map((r) => r.id)].sort());
    expect(merged.relations).toHaveLength(extracted.relations.length + 1);
    expect(merged.relations.find((r) => r.id === 'broader:c-bribe>c-gift')?.origin).toBe('imported');
    const conflict = merged.relations.find((r) => r.id === `conflictsWith:${C31}>${C32}`) as Relation;
    expect(conflict).toMatchObject({ status: 'dismissed', evidence: ['curator'], origin: 'imported' });
    expect(merged.relations.find((r) => r.type === 'defines')?.origin).toBe('extracted');
  });

  it('keeps a decided conflict when the import only says candidate, and is idempotent', () => {
    const extracted = sampleGraph();
    const decided = `conflictsWith:${C21}>${C31}`;
    const imported: ExtractedGraph = {
      concepts: [],
      relations: [relation('conflictsWith', C21, C31, { status: 'candidate', evidence: [`${C21}:s1`], origin: 'imported' })],
    };
    const once = mergeImported(extracted, imported);
    expect(once.relations.find((r) => r.id === decided)).toMatchObject({
      status: 'confirmed',
      evidence: [`${C21}:s1`, `${C31}:s1`],
      origin: 'imported',
    });
    expect(mergeImported(once, imported)).toEqual(once);
  });

  it('keeps the extracted definition’s clause when a plain SKOS import restates the same text', () => {
    const extracted = sampleGraph();
    const gift = extracted.concepts.find((c) => c.id === 'c-gift') as Concept;
    const same = { ...gift, definition: { text: gift.definition?.text ?? '', clauseId: SKOS_IMPORT_SOURCE }, origin: 'imported' as const };
    const other = { ...same, definition: { text: 'Something else.', clauseId: SKOS_IMPORT_SOURCE } };
    const merged = (c: Concept): Concept['definition'] =>
      mergeImported(extracted, { concepts: [c], relations: [] }).concepts.find((x) => x.id === 'c-gift')?.definition ?? null;
    expect(merged(same)).toEqual(gift.definition);
    expect(merged(other)).toEqual({ text: 'Something else.', clauseId: SKOS_IMPORT_SOURCE });
    expect(merged({ ...same, definition: null })).toBeNull();
  });

  it('over an export of the same graph changes nothing but origin', async () => {
    const extracted = sampleGraph();
    const imported = await fromTurtle(await toTurtle({ contextId: 'gifts', ...extracted }));
    const merged = mergeImported(extracted, imported);
    expect(withoutOrigin(merged)).toEqual(withoutOrigin(extracted));
    expect(merged.concepts.every((c) => c.origin === 'imported')).toBe(true);
  });

  it('importDelta keeps only what an import changes, so a re-imported export pins nothing', async () => {
    const extracted = sampleGraph();
    const exported = await fromTurtle(await toTurtle({ contextId: 'gifts', ...extracted }));
    expect(importDelta(extracted, exported)).toEqual({ concepts: [], relations: [] });

    const edited = await fromTurtle(
      (await toTurtle({ contextId: 'gifts', ...extracted }))
        .replace('"present"@en', '"gratuity"@en')
        .replace('studio:status studio:candidate', 'studio:status studio:dismissed'),
    );
    const delta = importDelta(extracted, edited);
    expect(delta.concepts.map((c) => [c.id, c.altLabels])).toEqual([['c-gift', ['gratuity', 'gifts']]]);
    expect(delta.relations.map((r) => [r.id, r.status])).toEqual([[`conflictsWith:${C31}>${C32}`, 'dismissed']]);
    const viaDelta = mergeImported(extracted, delta);
    expect(viaDelta.concepts.find((c) => c.id === 'c-gift')).toMatchObject({ altLabels: ['gratuity', 'gifts'], origin: 'imported' });
    expect(viaDelta.concepts.find((c) => c.id === 'c-employee')?.origin).toBe('extracted');
    expect(withoutOrigin(viaDelta)).toEqual(withoutOrigin(mergeImported(extracted, edited)));
  });
});
