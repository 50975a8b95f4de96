import { DataFactory, Parser, Writer } from 'n3';
import type { Quad, Quad_Object, Quad_Subject } from 'n3';
import { CONCEPT_ROLES, Concept, ConflictStatus, NormativeKind, Relation, RELATION_TYPES } from '@studio/contracts';
import type { ConceptRole, OntologyGraph, RelationType } from '@studio/contracts';
import type { ExtractedGraph } from './model';
import { conceptId, normaliseLabel } from './labels';

/**
 * SKOS in and out.
 *
 * Export (`toTurtle`, `toJsonLd`) writes a context's graph as one skos:ConceptScheme:
 * - every concept is a skos:Concept with skos:inScheme, skos:prefLabel (@en), skos:altLabel (@en),
 *   skos:definition (@en), skos:broader and its inverse skos:narrower (both written, SKOS tools read
 *   either), skos:related (written both ways, as SKOS makes it symmetric), skos:topConceptOf when it has
 *   no broader concept; the project vocabulary (`STUDIO_ONTOLOGY_NS`, prefix `studio:`) adds
 *   studio:role (studio:term | studio:actor | studio:action | studio:object), studio:origin
 *   (studio:extracted | studio:imported), studio:definedIn (the clause of its definition),
 *   studio:mentionedIn (its clauses, in order) and studio:document (its document ids);
 * - every clause a relation touches is a studio:Clause with studio:clauseId, and studio:numbering,
 *   studio:citation and studio:document when the caller passes the clauses (`options.clauses`); the
 *   domain links are plain triples on it: studio:defines / studio:governs (→ concept),
 *   studio:exceptionOf / studio:refersTo / studio:conflictsWith (→ clause);
 * - every relation is also a studio:Relation node (IRI `…/relation/<id>`) carrying what a plain triple
 *   cannot: studio:relationType (the property: skos:broader, skos:related, studio:governs, …),
 *   studio:source, studio:target, studio:statementKind (governs: studio:obligation, studio:prohibition,
 *   studio:permission, studio:exception, studio:definition), studio:status (conflictsWith:
 *   studio:candidate | studio:confirmed | studio:dismissed), studio:evidence (literals, in order),
 *   studio:origin and studio:relationId. So `governs` is modelled by a statement-kind-bearing node
 *   (one clause may govern one concept with several kinds; each is its own node), and the plain
 *   `clause studio:governs concept` triple is there for readers that only follow links.
 *
 * Import (`fromTurtle`) reads that back, and plain SKOS from other tools:
 * - a concept whose IRI is ours (`<base>context:<id>/concept/<conceptId>`) keeps that id; any other
 *   concept gets `conceptId(normaliseLabel(prefLabel))` and its normalised label;
 * - the prefLabel is the @en one (else en-*, else untagged, else the only language's); altLabels and
 *   definitions are taken in that language and untagged; other languages are ignored; the first
 *   definition is the concept's;
 * - a concept without studio:role is a `term` (a SKOS concept is a term of a vocabulary);
 * - a skos:definition without studio:definedIn gets the clause id `SKOS_IMPORT_SOURCE` (the imported
 *   file, not a clause); export leaves studio:definedIn out for it, so it round-trips;
 * - relations come from studio:Relation nodes, and from plain triples no node describes
 *   (skos:narrower is turned into skos:broader; symmetric skos:related and studio:conflictsWith
 *   without a node get the smaller id as `from`; a plain studio:conflictsWith is a `candidate`);
 * - everything imported has origin 'imported', whatever studio:origin says: the round trip
 *   export → import gives the same concepts and relations in every field except `origin`, which
 *   says where the current content came from (studio:origin in a file is provenance for readers);
 * - repeated values (altLabels, clauseIds, documentIds, evidence) keep the order of the file.
 * Bad input throws SkosImportError naming the problem (the line of a syntax error; the concept,
 * property and term otherwise).
 */

/** The project vocabulary: defines, governs, exceptionOf, refersTo, conflictsWith, Clause, Relation, statementKind, role, … */
export const STUDIO_ONTOLOGY_NS = 'https://alignment-studio.dev/ns/ontology#';
export const SKOS_NS = 'http://www.w3.org/2004/02/skos/core#';
const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const RDF_TYPE = `${RDF_NS}type`;
const DEFAULT_BASE = 'urn:studio:';

/** The clause id a definition imported without a source clause gets: the imported file. */
export const SKOS_IMPORT_SOURCE = 'skos-import';

/** What an export may say about a clause beyond its id (the service has the document trees). */
export interface SkosClause {
  id: string;
  numbering: string;
  citation?: string;
  documentId?: string;
}

export interface SkosExportOptions {
  /** The tenant's base IRI, e.g. 'urn:studio:' (the default) or 'https://studio.example.com/t/acme/'. */
  base?: string;
  /** Clauses to describe (numbering, citation, document); only those the graph links to are written. */
  clauses?: readonly SkosClause[];
}

export interface SkosImportOptions {
  /** The base IRI the file's own concepts and clauses were exported under (default 'urn:studio:'). */
  base?: string;
}

type ExportGraph = Pick<OntologyGraph, 'contextId' | 'concepts' | 'relations'>;

/** A bad SKOS file: the message names the line (syntax) or the concept, property and term. */
export class SkosImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkosImportError';
  }
}

/** The IRI of a context's concept scheme: 'urn:studio:' + 'ctx' → 'urn:studio:context:ctx/'. */
export function conceptSchemeIri(tenantBase: string, contextId: string): string {
  if (tenantBase === '') throw new Error('conceptSchemeIri: the tenant base IRI is empty');
  return `${tenantBase}context:${encodeSegment(contextId)}/`;
}

const skos = (local: string): string => `${SKOS_NS}${local}`;
const studio = (local: string): string => `${STUDIO_ONTOLOGY_NS}${local}`;

/** The property a relation type is written as. */
const RELATION_PROPERTY: Record<RelationType, string> = {
  broader: skos('broader'),
  related: skos('related'),
  defines: studio('defines'),
  governs: studio('governs'),
  exceptionOf: studio('exceptionOf'),
  refersTo: studio('refersTo'),
  conflictsWith: studio('conflictsWith'),
};
const CONCEPT_TO_CONCEPT = new Set<RelationType>(['broader', 'related']);
const CLAUSE_TO_CONCEPT = new Set<RelationType>(['defines', 'governs']);
const SYMMETRIC = new Set<RelationType>(['related', 'conflictsWith']);

/** Percent-encodes everything but letters, digits and `._~:-` (ids keep their look; '>' of relation ids is encoded). */
function encodeSegment(value: string): string {
  return encodeURIComponent(value)
    .replace(/%3A/gi, ':')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeSegment(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/** The deterministic relation id of the model: `${type}:${from}>${to}` plus `:${statementKind}` for governs. */
function relationId(type: RelationType, from: string, to: string, statementKind: Relation['statementKind']): string {
  return `${type}:${from}>${to}${type === 'governs' && statementKind ? `:${statementKind}` : ''}`;
}

interface Iris {
  scheme: string;
  concept: (id: string) => string;
  clause: (id: string) => string;
  relation: (id: string) => string;
}

function irisFor(base: string, contextId: string): Iris {
  const scheme = conceptSchemeIri(base, contextId);
  return {
    scheme,
    concept: (id) => `${scheme}concept/${encodeSegment(id)}`,
    clause: (id) => `${scheme}clause/${encodeSegment(id)}`,
    relation: (id) => `${scheme}relation/${encodeSegment(id)}`,
  };
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

interface ExportModel {
  quads: Quad[];
  prefixes: Record<string, string>;
}

/** The graph as RDF quads, in a fixed order (scheme, concepts, clauses, relation nodes; each sorted by id). */
function exportModel(graph: ExportGraph, options: SkosExportOptions = {}): ExportModel {
  const { namedNode, literal, quad } = DataFactory;
  const iris = irisFor(options.base ?? DEFAULT_BASE, graph.contextId);
  const quads: Quad[] = [];
  const add = (s: string, p: string, o: Quad_Object): void => {
    quads.push(quad(namedNode(s), namedNode(p), o));
  };
  const iri = (value: string): Quad_Object => namedNode(value);
  const en = (value: string): Quad_Object => literal(value, 'en');
  const text = (value: string): Quad_Object => literal(value);

  const concepts = [...graph.concepts].sort(byId);
  const relations = [...graph.relations].sort(byId);
  const conceptIds = new Set(concepts.map((c) => c.id));
  for (const r of relations) {
    const conceptEnds = CONCEPT_TO_CONCEPT.has(r.type) ? [r.from, r.to] : CLAUSE_TO_CONCEPT.has(r.type) ? [r.to] : [];
    for (const end of conceptEnds) {
      if (!conceptIds.has(end)) throw new Error(`SKOS export: relation ${r.id} refers to concept ${end}, which the graph does not have`);
    }
  }

  const broaderOf = new Map<string, string[]>();
  const narrowerOf = new Map<string, string[]>();
  const relatedOf = new Map<string, string[]>();
  const push = (map: Map<string, string[]>, key: string, value: string): void => {
    const list = map.get(key) ?? [];
    if (!list.includes(value)) list.push(value);
    map.set(key, list);
  };
  for (const r of relations) {
    if (r.type === 'broader') {
      push(broaderOf, r.from, r.to);
      push(narrowerOf, r.to, r.from);
    } else if (r.type === 'related') {
      push(relatedOf, r.from, r.to);
      push(relatedOf, r.to, r.from);
    }
  }

  add(iris.scheme, RDF_TYPE, iri(skos('ConceptScheme')));
  add(iris.scheme, skos('prefLabel'), en(`Concepts of context ${graph.contextId}`));
  add(iris.scheme, studio('contextId'), text(graph.contextId));
  for (const c of concepts) if (!broaderOf.has(c.id)) add(iris.scheme, skos('hasTopConcept'), iri(iris.concept(c.id)));

  for (const c of concepts) {
    const s = iris.concept(c.id);
    add(s, RDF_TYPE, iri(skos('Concept')));
    add(s, skos('inScheme'), iri(iris.scheme));
    if (!broaderOf.has(c.id)) add(s, skos('topConceptOf'), iri(iris.scheme));
    add(s, skos('prefLabel'), en(c.prefLabel));
    for (const alt of c.altLabels) add(s, skos('altLabel'), en(alt));
    if (c.definition) {
      add(s, skos('definition'), en(c.definition.text));
      if (c.definition.clauseId !== SKOS_IMPORT_SOURCE) add(s, studio('definedIn'), iri(iris.clause(c.definition.clauseId)));
    }
    for (const role of c.roles) add(s, studio('role'), iri(studio(role)));
    add(s, studio('origin'), iri(studio(c.origin)));
    for (const clauseId of c.clauseIds) add(s, studio('mentionedIn'), iri(iris.clause(clauseId)));
    for (const documentId of c.documentIds) add(s, studio('document'), text(documentId));
    for (const b of broaderOf.get(c.id) ?? []) add(s, skos('broader'), iri(iris.concept(b)));
    for (const n of narrowerOf.get(c.id) ?? []) add(s, skos('narrower'), iri(iris.concept(n)));
    for (const r of relatedOf.get(c.id) ?? []) add(s, skos('related'), iri(iris.concept(r)));
  }

  // Clause nodes: every clause a concept or relation names, sorted by id.
  const clauseInfo = new Map((options.clauses ?? []).map((c) => [c.id, c]));
  const clauseIds = new Set<string>();
  for (const c of concepts) {
    for (const id of c.clauseIds) clauseIds.add(id);
    if (c.definition && c.definition.clauseId !== SKOS_IMPORT_SOURCE) clauseIds.add(c.definition.clauseId);
  }
  const linksOf = new Map<string, Relation[]>();
  for (const r of relations) {
    if (CONCEPT_TO_CONCEPT.has(r.type)) continue;
    clauseIds.add(r.from);
    if (!CLAUSE_TO_CONCEPT.has(r.type)) clauseIds.add(r.to);
    linksOf.set(r.from, [...(linksOf.get(r.from) ?? []), r]);
  }
  for (const id of [...clauseIds].sort()) {
    const s = iris.clause(id);
    add(s, RDF_TYPE, iri(studio('Clause')));
    add(s, studio('clauseId'), text(id));
    const info = clauseInfo.get(id);
    if (info) {
      add(s, studio('numbering'), text(info.numbering));
      if (info.citation) add(s, studio('citation'), text(info.citation));
      if (info.documentId) add(s, studio('document'), text(info.documentId));
    }
    const written = new Set<string>();
    for (const r of linksOf.get(id) ?? []) {
      const target = CLAUSE_TO_CONCEPT.has(r.type) ? iris.concept(r.to) : iris.clause(r.to);
      const key = `${r.type} ${target}`; // governs with two kinds: one plain triple
      if (written.has(key)) continue;
      written.add(key);
      add(s, RELATION_PROPERTY[r.type], iri(target));
    }
  }

  for (const r of relations) {
    const s = iris.relation(r.id);
    const end = (id: string, isConcept: boolean): Quad_Object => iri(isConcept ? iris.concept(id) : iris.clause(id));
    add(s, RDF_TYPE, iri(studio('Relation')));
    add(s, studio('relationId'), text(r.id));
    add(s, studio('relationType'), iri(RELATION_PROPERTY[r.type]));
    add(s, studio('source'), end(r.from, CONCEPT_TO_CONCEPT.has(r.type)));
    add(s, studio('target'), end(r.to, CONCEPT_TO_CONCEPT.has(r.type) || CLAUSE_TO_CONCEPT.has(r.type)));
    if (r.statementKind) add(s, studio('statementKind'), iri(studio(r.statementKind)));
    if (r.status) add(s, studio('status'), iri(studio(r.status)));
    for (const e of r.evidence) add(s, studio('evidence'), text(e));
    add(s, studio('origin'), iri(studio(r.origin)));
  }

  return {
    quads,
    prefixes: {
      skos: SKOS_NS,
      studio: STUDIO_ONTOLOGY_NS,
      scheme: iris.scheme,
      concept: `${iris.scheme}concept/`,
      clause: `${iris.scheme}clause/`,
      relation: `${iris.scheme}relation/`,
    },
  };
}

/** The graph as SKOS Turtle (see the module comment for the vocabulary). */
export async function toTurtle(graph: ExportGraph, options?: SkosExportOptions): Promise<string> {
  const { quads, prefixes } = exportModel(graph, options);
  const writer = new Writer({ prefixes });
  writer.addQuads(quads);
  return new Promise((resolve, reject) => {
    writer.end((error: Error | null, result: string) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * The graph as JSON-LD: the same triples as the Turtle, one node per subject in `@graph`, IRIs
 * compacted with the prefixes of `@context` (skos, studio, rdf, and the context's scheme, concept,
 * clause and relation namespaces); labels and definitions as `{ "@value", "@language": "en" }`.
 */
export function toJsonLd(graph: ExportGraph, options?: SkosExportOptions): Record<string, unknown> {
  const { quads, prefixes } = exportModel(graph, options);
  const context: Record<string, string> = { rdf: RDF_NS, ...prefixes };
  const prefixList = Object.entries(prefixes).sort((a, b) => b[1].length - a[1].length);
  const compact = (value: string): string => {
    for (const [prefix, ns] of prefixList) {
      const local = value.slice(ns.length);
      // A compact IRI whose local part starts with '//' would read as an absolute IRI; keep those whole.
      if (value.startsWith(ns) && local !== '' && !local.startsWith('//')) return `${prefix}:${local}`;
    }
    return value;
  };
  const nodes = new Map<string, Record<string, unknown>>();
  for (const q of quads) {
    const id = compact(q.subject.value);
    let node = nodes.get(id);
    if (!node) {
      node = { '@id': id };
      nodes.set(id, node);
    }
    const key = q.predicate.value === RDF_TYPE ? '@type' : compact(q.predicate.value);
    let value: unknown;
    if (q.predicate.value === RDF_TYPE) value = compact(q.object.value);
    else if (q.object.termType === 'NamedNode') value = { '@id': compact(q.object.value) };
    else if (q.object.termType === 'Literal' && q.object.language) value = { '@value': q.object.value, '@language': q.object.language };
    else value = q.object.value;
    const previous = node[key];
    node[key] = previous === undefined ? [value] : [...(previous as unknown[]), value];
  }
  const graphNodes = [...nodes.values()].map((node) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] = Array.isArray(value) && value.length === 1 ? value[0] : value;
    }
    return out;
  });
  return { '@context': context, '@graph': graphNodes };
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

interface SubjectView {
  iri: string;
  types: Set<string>;
  values: Map<string, Quad_Object[]>;
}

const describe = (term: Quad_Object | Quad_Subject): string =>
  term.termType === 'Literal' ? JSON.stringify(term.value) : term.termType === 'BlankNode' ? `_:${term.value}` : `<${term.value}>`;

const shortProperty = (p: string): string =>
  p.startsWith(SKOS_NS)
    ? `skos:${p.slice(SKOS_NS.length)}`
    : p.startsWith(STUDIO_ONTOLOGY_NS)
      ? `studio:${p.slice(STUDIO_ONTOLOGY_NS.length)}`
      : `<${p}>`;

function parseTurtle(text: string, base: string): Quad[] {
  try {
    return new Parser({ format: 'text/turtle', baseIRI: base }).parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const line = (e as { context?: { line?: number } }).context?.line;
    throw new SkosImportError(
      `Turtle syntax error${line !== undefined && !/on line \d+/.test(message) ? ` on line ${line}` : ''}: ${message}`,
    );
  }
}

/**
 * The language a concept is read in, from its prefLabels: English ('en', else the first 'en-*' tag),
 * else untagged, else the only language there is; undefined when several other languages.
 */
function chooseLanguage(values: readonly Quad_Object[]): string | undefined {
  const tags = [
    ...new Set(values.filter((v) => v.termType === 'Literal').map((v) => (v as Quad_Object & { language: string }).language.toLowerCase())),
  ].sort();
  if (tags.includes('en')) return 'en';
  return tags.find((t) => t.startsWith('en-')) ?? (tags.includes('') ? '' : tags.length === 1 ? tags[0] : undefined);
}

/** The literal values in a language; with `untagged`, untagged literals count as that language too. */
function inLanguage(values: readonly Quad_Object[], tag: string, untagged: boolean): string[] {
  return values
    .filter((v) => v.termType === 'Literal')
    .filter((v) => {
      const language = (v as Quad_Object & { language: string }).language.toLowerCase();
      return language === tag || (untagged && language === '');
    })
    .map((v) => v.value);
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];

/**
 * Parses SKOS Turtle into concepts and relations (see the module comment). Throws SkosImportError
 * naming the line of a syntax error, or the concept, property and term of a semantic one.
 */
export async function fromTurtle(text: string, options: SkosImportOptions = {}): Promise<ExtractedGraph> {
  const base = options.base ?? DEFAULT_BASE;
  if (text.trim() === '') throw new SkosImportError('the SKOS file is empty');
  const quads = parseTurtle(text, base);

  const subjects = new Map<string, SubjectView>();
  const subjectKey = (t: Quad_Subject): string => (t.termType === 'BlankNode' ? `_:${t.value}` : t.value);
  for (const q of quads) {
    const key = subjectKey(q.subject);
    let view = subjects.get(key);
    if (!view) {
      view = { iri: key, types: new Set(), values: new Map() };
      subjects.set(key, view);
    }
    if (q.predicate.value === RDF_TYPE && q.object.termType === 'NamedNode') view.types.add(q.object.value);
    const list = view.values.get(q.predicate.value) ?? [];
    list.push(q.object);
    view.values.set(q.predicate.value, list);
  }
  const get = (view: SubjectView, property: string): Quad_Object[] => view.values.get(property) ?? [];
  const named = (view: SubjectView, property: string): string[] =>
    get(view, property).map((o) => {
      if (o.termType !== 'NamedNode') {
        throw new SkosImportError(`${shortProperty(property)} of <${view.iri}> must be an IRI, not ${describe(o)}`);
      }
      return o.value;
    });
  const single = (view: SubjectView, property: string): Quad_Object | null => {
    const values = get(view, property);
    if (values.length > 1)
      throw new SkosImportError(`<${view.iri}> has ${values.length} values of ${shortProperty(property)}; one is allowed`);
    return values[0] ?? null;
  };

  // Our own IRIs: <base>context:<context>/concept/<id> and …/clause/<id>.
  const ours = (iri: string, kind: 'concept' | 'clause'): string | null => {
    if (!iri.startsWith(`${base}context:`)) return null;
    const rest = iri.slice(`${base}context:`.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || !rest.slice(slash + 1).startsWith(`${kind}/`)) return null;
    const encoded = rest.slice(slash + 1 + kind.length + 1);
    return encoded === '' || encoded.includes('/') ? null : decodeSegment(encoded);
  };

  // --- concepts ---
  const conceptViews = [...subjects.values()].filter((v) => v.types.has(skos('Concept')));
  if (conceptViews.length === 0) throw new SkosImportError('the file has no skos:Concept');
  const conceptIdOf = new Map<string, string>();
  const conceptIriOf = new Map<string, string>();
  const partial = new Map<string, { view: SubjectView; prefLabel: string; altLabels: string[]; language: string }>();
  for (const view of conceptViews) {
    if (view.iri.startsWith('_:')) throw new SkosImportError(`a skos:Concept is a blank node (${view.iri}); concepts need an IRI`);
    for (const property of [skos('prefLabel'), skos('altLabel'), skos('definition')]) {
      const notLiteral = get(view, property).find((o) => o.termType !== 'Literal');
      if (notLiteral)
        throw new SkosImportError(`${shortProperty(property)} of <${view.iri}> must be a literal, not ${describe(notLiteral)}`);
    }
    if (get(view, skos('prefLabel')).length === 0) throw new SkosImportError(`concept <${view.iri}> has no skos:prefLabel`);
    const language = chooseLanguage(get(view, skos('prefLabel')));
    if (language === undefined)
      throw new SkosImportError(`concept <${view.iri}> has prefLabels in several languages and none in English or untagged`);
    const labels = inLanguage(get(view, skos('prefLabel')), language, false);
    if (labels.length > 1) {
      throw new SkosImportError(
        `concept <${view.iri}> has ${labels.length} skos:prefLabel values in one language (${labels.map((l) => JSON.stringify(l)).join(', ')}); SKOS allows one`,
      );
    }
    const written = (labels[0] as string).trim();
    if (written === '') throw new SkosImportError(`concept <${view.iri}> has an empty skos:prefLabel`);
    const own = ours(view.iri, 'concept');
    const prefLabel = own ? written : normaliseLabel(written);
    if (prefLabel === '')
      throw new SkosImportError(`concept <${view.iri}>: the prefLabel ${JSON.stringify(written)} normalises to nothing`);
    let id: string;
    try {
      id = own ?? conceptId(prefLabel);
    } catch (e) {
      throw new SkosImportError(`concept <${view.iri}>: ${e instanceof Error ? e.message : String(e)}`);
    }
    const clash = conceptIriOf.get(id);
    if (clash !== undefined) {
      throw new SkosImportError(
        `concepts <${clash}> and <${view.iri}> are the same concept ${id} (same preferred label ${JSON.stringify(prefLabel)})`,
      );
    }
    conceptIdOf.set(view.iri, id);
    conceptIriOf.set(id, view.iri);
    const altLabels = unique(inLanguage(get(view, skos('altLabel')), language, true).map((l) => l.trim())).filter(
      (l) => l !== '' && l !== prefLabel,
    );
    partial.set(view.iri, { view, prefLabel, altLabels, language });
  }
  const conceptRef = (from: SubjectView, property: string, iri: string): string => {
    const id = conceptIdOf.get(iri);
    if (id === undefined)
      throw new SkosImportError(`${shortProperty(property)} of <${from.iri}> names <${iri}>, which is not a skos:Concept in the file`);
    return id;
  };

  // --- clauses ---
  const clauseIdOf = (iri: string, context: string): string => {
    const view = subjects.get(iri);
    const literalId = view ? single(view, studio('clauseId')) : null;
    if (literalId) {
      if (literalId.termType !== 'Literal' || literalId.value.trim() === '') {
        throw new SkosImportError(`studio:clauseId of <${iri}> must be a non-empty literal, not ${describe(literalId)}`);
      }
      return literalId.value.trim();
    }
    const own = ours(iri, 'clause');
    if (own) return own;
    throw new SkosImportError(`${context} names the clause <${iri}>, which has no studio:clauseId`);
  };

  // --- enumerations of the project vocabulary (IRIs in the namespace; plain literals accepted too) ---
  const enumValue = <T extends string>(view: SubjectView, property: string, value: Quad_Object, allowed: readonly T[]): T => {
    const local =
      value.termType === 'NamedNode' && value.value.startsWith(STUDIO_ONTOLOGY_NS)
        ? value.value.slice(STUDIO_ONTOLOGY_NS.length)
        : value.termType === 'Literal'
          ? value.value
          : null;
    if (local === null || !(allowed as readonly string[]).includes(local)) {
      throw new SkosImportError(
        `${shortProperty(property)} of <${view.iri}> is ${describe(value)}; expected one of ${allowed.map((a) => `studio:${a}`).join(', ')}`,
      );
    }
    return local as T;
  };

  // --- relations ---
  const relations = new Map<string, Relation>();
  /** type + endpoints (unordered for symmetric types, ignoring the kind) → true when a node describes it. */
  const described = new Set<string>();
  const coverKey = (type: RelationType, from: string, to: string): string =>
    SYMMETRIC.has(type) ? `${type} ${[from, to].sort().join(' ')}` : `${type} ${from} ${to}`;
  const addRelation = (r: Omit<Relation, 'id' | 'origin'>, where: string): void => {
    if (r.from === r.to) throw new SkosImportError(`${where}: a ${r.type} relation from ${r.from} to itself`);
    const id = relationId(r.type, r.from, r.to, r.statementKind);
    const relation: Relation = { id, ...r, origin: 'imported' };
    const checked = Relation.safeParse(relation);
    if (!checked.success)
      throw new SkosImportError(`${where}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const previous = relations.get(id);
    if (previous) {
      relation.evidence = unique([...previous.evidence, ...relation.evidence]);
      relation.status = previous.status && previous.status !== 'candidate' ? previous.status : relation.status;
    }
    relations.set(id, relation);
  };
  const typeOfProperty = new Map<string, RelationType>(RELATION_TYPES.map((t) => [RELATION_PROPERTY[t], t]));

  for (const view of subjects.values()) {
    if (!view.types.has(studio('Relation'))) continue;
    const where = `relation <${view.iri}>`;
    const typeTerm = single(view, studio('relationType'));
    if (!typeTerm) throw new SkosImportError(`${where} has no studio:relationType`);
    const type = typeTerm.termType === 'NamedNode' ? typeOfProperty.get(typeTerm.value) : undefined;
    if (!type) {
      throw new SkosImportError(
        `${where} has studio:relationType ${describe(typeTerm)}; expected one of ${RELATION_TYPES.map((t) => shortProperty(RELATION_PROPERTY[t])).join(', ')}`,
      );
    }
    const source = named(view, studio('source'));
    const target = named(view, studio('target'));
    if (source.length !== 1 || target.length !== 1)
      throw new SkosImportError(`${where} needs exactly one studio:source and one studio:target`);
    const from = CONCEPT_TO_CONCEPT.has(type)
      ? conceptRef(view, studio('source'), source[0] as string)
      : clauseIdOf(source[0] as string, `studio:source of ${where}`);
    const to =
      CONCEPT_TO_CONCEPT.has(type) || CLAUSE_TO_CONCEPT.has(type)
        ? conceptRef(view, studio('target'), target[0] as string)
        : clauseIdOf(target[0] as string, `studio:target of ${where}`);
    const kindTerm = single(view, studio('statementKind'));
    const statementKind = kindTerm ? enumValue(view, studio('statementKind'), kindTerm, NormativeKind.options) : null;
    if (statementKind && type !== 'governs')
      throw new SkosImportError(`${where}: studio:statementKind is for governs relations only, not ${type}`);
    if (!statementKind && type === 'governs') throw new SkosImportError(`${where}: a governs relation needs a studio:statementKind`);
    const statusTerm = single(view, studio('status'));
    const status = statusTerm
      ? enumValue(view, studio('status'), statusTerm, ConflictStatus.options)
      : type === 'conflictsWith'
        ? 'candidate'
        : null;
    if (status && type !== 'conflictsWith')
      throw new SkosImportError(`${where}: studio:status is for conflictsWith relations only, not ${type}`);
    const evidence = get(view, studio('evidence')).map((e) => {
      if (e.termType !== 'Literal') throw new SkosImportError(`studio:evidence of ${where} must be a literal, not ${describe(e)}`);
      return e.value;
    });
    addRelation({ type, from, to, statementKind, evidence: unique(evidence), status }, where);
    described.add(coverKey(type, from, to));
  }

  // Plain triples no relation node describes (SKOS from other tools, hand edits).
  const plain: Array<Omit<Relation, 'id' | 'origin'> & { where: string }> = [];
  for (const view of subjects.values()) {
    const isConcept = conceptIdOf.has(view.iri);
    for (const property of [skos('broader'), skos('narrower'), skos('related')]) {
      if (get(view, property).length === 0) continue;
      if (!isConcept) throw new SkosImportError(`<${view.iri}> has ${shortProperty(property)} but is not a skos:Concept`);
      const self = conceptIdOf.get(view.iri) as string;
      for (const object of named(view, property)) {
        const other = conceptRef(view, property, object);
        const where = `${shortProperty(property)} of <${view.iri}>`;
        if (property === skos('broader'))
          plain.push({ type: 'broader', from: self, to: other, statementKind: null, evidence: [], status: null, where });
        else if (property === skos('narrower'))
          plain.push({ type: 'broader', from: other, to: self, statementKind: null, evidence: [], status: null, where });
        else {
          const [a, b] = [self, other].sort() as [string, string];
          plain.push({ type: 'related', from: a, to: b, statementKind: null, evidence: [], status: null, where });
        }
      }
    }
    for (const type of ['defines', 'governs', 'exceptionOf', 'refersTo', 'conflictsWith'] as const) {
      const property = RELATION_PROPERTY[type];
      if (get(view, property).length === 0) continue;
      if (isConcept)
        throw new SkosImportError(`${shortProperty(property)} of <${view.iri}>: the subject is a concept, but ${type} links a clause`);
      const from = clauseIdOf(view.iri, `${shortProperty(property)}`);
      for (const object of named(view, property)) {
        const where = `${shortProperty(property)} of <${view.iri}>`;
        if (CLAUSE_TO_CONCEPT.has(type)) {
          plain.push({ type, from, to: conceptRef(view, property, object), statementKind: null, evidence: [], status: null, where });
        } else {
          const to = clauseIdOf(object, where);
          const [a, b] = type === 'conflictsWith' ? ([from, to].sort() as [string, string]) : [from, to];
          plain.push({
            type,
            from: a,
            to: b,
            statementKind: null,
            evidence: [],
            status: type === 'conflictsWith' ? 'candidate' : null,
            where,
          });
        }
      }
    }
  }
  for (const { where, ...r } of plain) {
    if (described.has(coverKey(r.type, r.from, r.to))) continue;
    addRelation(r, where);
  }

  // Every concept reached by a plain clause link is known; now the concepts themselves.
  const concepts: Concept[] = [];
  for (const { view, prefLabel, altLabels, language } of partial.values()) {
    const id = conceptIdOf.get(view.iri) as string;
    const where = `concept <${view.iri}>`;
    const definitions = inLanguage(get(view, skos('definition')), language, true)
      .map((d) => d.trim())
      .filter((d) => d !== '');
    const definedIn = named(view, studio('definedIn'));
    if (definedIn.length > 1) throw new SkosImportError(`${where} has ${definedIn.length} values of studio:definedIn; one is allowed`);
    if (definedIn.length === 1 && definitions.length === 0)
      throw new SkosImportError(`${where} has studio:definedIn but no skos:definition`);
    const definition =
      definitions.length === 0
        ? null
        : {
            text: definitions[0] as string,
            clauseId: definedIn.length === 1 ? clauseIdOf(definedIn[0] as string, `studio:definedIn of ${where}`) : SKOS_IMPORT_SOURCE,
          };
    const roleTerms = get(view, studio('role'));
    const roles: ConceptRole[] =
      roleTerms.length === 0
        ? ['term']
        : (unique(roleTerms.map((t) => enumValue(view, studio('role'), t, CONCEPT_ROLES))) as ConceptRole[]);
    const clauseIds = unique(named(view, studio('mentionedIn')).map((c) => clauseIdOf(c, `studio:mentionedIn of ${where}`)));
    const documentIds = unique(
      get(view, studio('document')).map((d) => {
        if (d.termType !== 'Literal')
          throw new SkosImportError(`studio:document of ${where} must be a literal document id, not ${describe(d)}`);
        return d.value;
      }),
    );
    const concept: Concept = { id, prefLabel, altLabels, roles, definition, clauseIds, documentIds, origin: 'imported' };
    const checked = Concept.safeParse(concept);
    if (!checked.success)
      throw new SkosImportError(`${where}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    concepts.push(concept);
  }

  return { concepts: concepts.sort(byId), relations: [...relations.values()].sort(byId) };
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

/** The imported definition; one whose text is the extracted one's, read without a clause, keeps the extracted clause. */
function mergedDefinition(extracted: Concept['definition'], imported: Concept['definition']): Concept['definition'] {
  if (!imported) return null;
  if (extracted && imported.clauseId === SKOS_IMPORT_SOURCE && imported.text === extracted.text) return { ...extracted };
  return { ...imported };
}

/**
 * An imported graph over an extracted one. A concept of the same id takes the imported labels,
 * definition and roles (a curator's correction wins over extraction) and keeps the extracted clause and
 * document links with the imported ones appended; it is marked origin 'imported'. New concepts are
 * added. Imported relations are added (origin 'imported'); one the extraction also found keeps its
 * evidence with the imported evidence appended, and a curator's decision (confirmed/dismissed) in the
 * import wins over a candidate. Output sorted by id (deterministic).
 */
export function mergeImported(extracted: ExtractedGraph, imported: ExtractedGraph): ExtractedGraph {
  const concepts = new Map(extracted.concepts.map((c) => [c.id, c]));
  for (const c of imported.concepts) {
    const before = concepts.get(c.id);
    concepts.set(
      c.id,
      before
        ? {
            ...before,
            prefLabel: c.prefLabel,
            altLabels: [...c.altLabels],
            definition: mergedDefinition(before.definition, c.definition),
            roles: [...c.roles],
            clauseIds: unique([...before.clauseIds, ...c.clauseIds]),
            documentIds: unique([...before.documentIds, ...c.documentIds]),
            origin: 'imported',
          }
        : { ...c, origin: 'imported' },
    );
  }
  const relations = new Map(extracted.relations.map((r) => [r.id, r]));
  for (const r of imported.relations) {
    const before = relations.get(r.id);
    relations.set(
      r.id,
      before
        ? {
            ...before,
            evidence: unique([...before.evidence, ...r.evidence]),
            status: r.status && r.status !== 'candidate' ? r.status : before.status,
            origin: 'imported',
          }
        : { ...r, evidence: [...r.evidence], origin: 'imported' },
    );
  }
  return { concepts: [...concepts.values()].sort(byId), relations: [...relations.values()].sort(byId) };
}

/**
 * What an import changes over the current graph: the imported concepts that are new or whose labels,
 * definition or roles differ, and the imported relations that are new or carry a decision
 * (confirmed/dismissed) the current one lacks. Storing this as a context's overlay (instead of the
 * whole import) keeps a re-imported export from pinning every extracted concept and relation against
 * later revisions of the documents. `mergeImported(current, importDelta(current, imported))` equals
 * `mergeImported(current, imported)` in everything but the origin of unchanged items and the links
 * and evidence an unchanged item would have gained.
 */
export function importDelta(current: ExtractedGraph, imported: ExtractedGraph): ExtractedGraph {
  const concepts = new Map(current.concepts.map((c) => [c.id, c]));
  const relations = new Map(current.relations.map((r) => [r.id, r]));
  const sameConcept = (a: Concept, b: Concept): boolean =>
    a.prefLabel === b.prefLabel &&
    JSON.stringify(a.altLabels) === JSON.stringify(b.altLabels) &&
    JSON.stringify(a.roles) === JSON.stringify(b.roles) &&
    JSON.stringify(mergedDefinition(a.definition, b.definition)) === JSON.stringify(a.definition);
  return {
    concepts: imported.concepts.filter((c) => {
      const before = concepts.get(c.id);
      return !before || !sameConcept(before, c);
    }),
    relations: imported.relations.filter((r) => {
      const before = relations.get(r.id);
      return !before || (r.status !== null && r.status !== 'candidate' && r.status !== before.status);
    }),
  };
}
