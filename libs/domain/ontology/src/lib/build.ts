/**
 * The ontology of a context's documents, read from their clauses and normative statements:
 * concepts (defined terms, the parties statements bind, the actions they oblige, forbid or permit,
 * the objects of those actions) and relations (SKOS broader/related between concepts; defines,
 * governs, exceptionOf, refersTo and candidate conflictsWith between clauses and concepts).
 * Everything comes from the documents' own words; no vocabulary is built in.
 */
import { CONCEPT_ROLES, type Concept, type ConceptRole, type Relation } from '@studio/contracts';
import { citedRefs, type Clause, type NormativeKind, type NormativeStatement } from '@studio/framing';
import {
  conceptId,
  isAcronym,
  isConceptLabel,
  leadingNounPhrases,
  normaliseLabel,
  readVerbs,
  verbLemma,
  wordTags,
  type VerbReading,
} from './labels';
import { ConceptMatcher } from './matcher';
import type { ExtractedGraph, OntologySource } from './model';

/** Cues of a definition that gives a term its meaning ("means", "refers to", "is defined as"). */
const MEANS =
  /^(?:means?|shall mean|refers? to|(?:is|are) defined as|has the meaning|have the meaning|(?:is|are) (?:used to )?(?:mean|denote)s?)$/;
/** Cues of a definition that lists what a term covers ("includes"). */
const INCLUDES = /^(?:includes?|shall include|(?:is|are) deemed to include)$/;
/** Cues of a definition that classes a term under another ("is considered", "constitutes"). */
const CLASSES = /^(?:(?:is|are) (?:considered|deemed|treated as)|constitutes?)\s*(?:to be)?$/;
/** A preposition or conjunction inside a label: the label's head comes before it. */
const FUNCTION_WORD = /^(?:of|for|to|in|on|by|with|from|at|and|or|under|about)$/;
/** Verbs that say nothing on their own as an action. */
const LIGHT_VERBS = new Set(['be', 'have', 'do', 'make', 'get', 'take', 'give', 'go', 'become', 'use', 'ensure', 'apply', 'include']);
/** The most concepts a concept is `related` to (its most frequent co-occurrences). */
const RELATED_CAP = 5;
/** The most objects of one statement turned into concepts (a long list names things, not concepts). */
const OBJECT_CAP = 4;

interface Draft {
  label: string;
  altLabels: Set<string>;
  roles: Set<ConceptRole>;
  definition: { text: string; clauseId: string; order: number; strong: boolean } | null;
  clauses: Map<string, number>;
  documents: Set<string>;
}

interface StatementReading {
  statement: NormativeStatement;
  actors: string[];
  actions: string[];
  objects: string[];
}

interface Located {
  clause: Clause;
  order: number;
  documentId: string;
  sectionNumbering: string | null;
}

class Builder {
  readonly drafts = new Map<string, Draft>();
  readonly relations = new Map<string, Relation>();
  /** Acronym (as written) → normalised long form, learnt from the documents. */
  readonly abbreviations = new Map<string, string>();

  /** A normalised label with a learnt abbreviation replaced by its long form. */
  canonical(label: string): { label: string; alt: string | null } {
    const long = this.abbreviations.get(label);
    return long ? { label: long, alt: label } : { label, alt: null };
  }

  /** Adds (or finds) the concept of a raw phrase; null when the phrase names no concept. */
  concept(raw: string, role: ConceptRole | null, at: Located): string | null {
    const { label, alt } = this.canonical(normaliseLabel(raw));
    if (!isConceptLabel(label)) return null;
    const id = conceptId(label);
    let d = this.drafts.get(id);
    if (!d) {
      d = { label, altLabels: new Set(), roles: new Set(), definition: null, clauses: new Map(), documents: new Set() };
      this.drafts.set(id, d);
    }
    if (alt) d.altLabels.add(alt);
    if (role) d.roles.add(role);
    d.clauses.set(at.clause.id, at.order);
    d.documents.add(at.documentId);
    return id;
  }

  relate(type: Relation['type'], from: string, to: string, evidence: string, statementKind: NormativeKind | null = null): void {
    if (from === to) return;
    const id = `${type}:${from}>${to}${type === 'governs' ? `:${statementKind}` : ''}`;
    const existing = this.relations.get(id);
    if (existing) {
      if (!existing.evidence.includes(evidence)) existing.evidence.push(evidence);
      return;
    }
    this.relations.set(id, {
      id,
      type,
      from,
      to,
      statementKind: type === 'governs' ? statementKind : null,
      evidence: [evidence],
      status: type === 'conflictsWith' ? 'candidate' : null,
      origin: 'extracted',
    });
  }
}

/** An -ing form of a verb ("making", "knowing"), not a noun that ends so ("anything", "evening"). */
function isGerund(word: string): boolean {
  const tags = wordTags(word);
  const lemma = verbLemma(word);
  if (lemma === word) return false;
  if (tags.includes('Gerund')) return true;
  return !tags.includes('Noun') && wordTags(lemma).some((t) => t === 'Verb' || t === 'Infinitive');
}

/** The part of a condition that names what a rule overrides ("notwithstanding section 2.1", "despite paragraph (a)"). */
function overriding(condition: string | null): string {
  return [...(condition ?? '').matchAll(/\b(?:notwithstanding|despite|in derogation from)\s+([^;,]*)/gi)]
    .map((m) => m[1] as string)
    .join(' ');
}

/** A heading that announces definitions. */
const DEFINITION_HEADING = /\b(?:definitions?|glossary|interpretation|defined terms|meaning of terms)\b/i;

/**
 * A definition written as a list entry: the term (quoted or not, an abbreviation in brackets after
 * it dropped) and the definiens after a colon or dash (only inside a definitions section) or after
 * "means" / "refers to" / "is defined as". Null when the text is no such entry.
 */
export function definitionEntry(text: string, inDefinitions: boolean): { term: string; text: string } | null {
  const m =
    /^\s*["“]?([A-Za-z][A-Za-z0-9'’ -]{0,80}?)["”]?\s*(?:\(\s*(?:the\s+)?["“]?[A-Za-z]{2,10}["”]?\s*\))?\s*(:|\s[-–—]\s|\bmeans\b|\brefers to\b|\bis defined as\b)\s*(.+)$/.exec(
      text,
    );
  if (!m) return null;
  const term = (m[1] as string).trim();
  const separator = (m[2] as string).trim();
  if (!inDefinitions && /^(?::|[-–—])$/.test(separator)) return null;
  if (term.split(/\s+/).length > 6) return null;
  const definiens = (m[3] as string).trim().replace(/\.$/, '');
  if (definiens.length < 3) return null;
  return { term, text: definiens };
}

/** "protected health information (PHI)": the acronym's letters are the initials of the words before it. */
function learnAbbreviations(text: string, into: Map<string, string>): void {
  for (const m of text.matchAll(/((?:[A-Za-z][\w-]*\s+){1,8})\(\s*(?:the\s+)?["“]?([A-Z][A-Za-z]*[A-Z]s?)["”]?\s*\)/g)) {
    const acronym = (m[2] as string).replace(/([A-Z])s$/, '$1');
    if (!isAcronym(acronym)) continue;
    const words = (m[1] as string).trim().split(/\s+/);
    const letters = acronym.toLowerCase();
    // the shortest run of trailing words whose initials (or hyphen-part initials) spell the acronym.
    for (let k = 1; k <= words.length; k += 1) {
      const run = words.slice(-k);
      const initials = run
        .flatMap((w) => w.split('-'))
        .map((w) => w[0]?.toLowerCase() ?? '')
        .join('');
      const strict = run.map((w) => w[0]?.toLowerCase() ?? '').join('');
      if (initials === letters || strict === letters) {
        const long = normaliseLabel(run.join(' '));
        if (isConceptLabel(long) && !into.has(acronym)) into.set(acronym, long);
        break;
      }
    }
  }
}

function kindOrder(a: ConceptRole, b: ConceptRole): number {
  return CONCEPT_ROLES.indexOf(a) - CONCEPT_ROLES.indexOf(b);
}

/** Lower-case words of four letters or more (short function words carry no scope). */
function words(text: string | null): string[] {
  return (text ?? '').toLowerCase().match(/[a-z]{4,}/g) ?? [];
}

/** Clause references in a text that name a numbering, "§ 3.2", "section 3.2", "paragraph (a)(1) of this section". */
function references(text: string, section: string | null): string[] {
  const refs = citedRefs(text, section ? { section } : {});
  for (const m of text.matchAll(/\b(?:sections?|clauses?|paragraphs?|articles?)\s+(\d+(?:\.\d+)+(?:\([A-Za-z0-9]{1,5}\))*)/gi)) {
    if (!refs.includes(m[1] as string)) refs.push(m[1] as string);
  }
  return refs;
}

/**
 * Concepts and relations of a context's documents, de-duplicated across them; deterministic (the
 * same sources in any order give the same graph, concepts and relations sorted by id).
 */
export function buildOntology(sources: readonly OntologySource[]): ExtractedGraph {
  const seen = new Set<string>();
  for (const s of sources) {
    if (!s.documentId) throw new Error('buildOntology: a source has no documentId');
    if (seen.has(s.documentId)) throw new Error(`buildOntology: document ${s.documentId} is given twice`);
    if (s.tree.documentId !== s.documentId)
      throw new Error(`buildOntology: source ${s.documentId} carries the tree of document ${s.tree.documentId}`);
    seen.add(s.documentId);
  }
  const ordered = [...sources].sort((a, b) => (a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : 0));
  const b = new Builder();

  // Where every clause is: document order across the context, section numbering for references.
  const located = new Map<string, Located>();
  const byNumbering = new Map<string, Map<string, Clause>>();
  /** `${documentId}|${numbering}` → section id. */
  const sectionByNumbering = new Map<string, string>();
  ordered.forEach((source, di) => {
    const sections = new Map(source.tree.sections.map((s) => [s.id, s.numbering]));
    const numbers = new Map<string, Clause>();
    source.tree.clauses.forEach((clause, ci) => {
      located.set(clause.id, {
        clause,
        order: di * 1_000_000 + ci,
        documentId: source.documentId,
        sectionNumbering: clause.sectionId ? (sections.get(clause.sectionId) ?? null) : null,
      });
      if (!numbers.has(clause.numbering)) numbers.set(clause.numbering, clause);
      learnAbbreviations(clause.text, b.abbreviations);
    });
    byNumbering.set(source.documentId, numbers);
    for (const section of source.tree.sections) sectionByNumbering.set(`${source.documentId}|${section.numbering}`, section.id);
  });

  const statementsOf = new Map<string, NormativeStatement[]>();
  const all: NormativeStatement[] = [];
  for (const source of ordered)
    for (const s of source.statements) {
      if (!located.has(s.clauseId))
        throw new Error(`buildOntology: statement ${s.id} names clause ${s.clauseId}, which is not in document ${source.documentId}`);
      all.push(s);
      statementsOf.set(s.clauseId, [...(statementsOf.get(s.clauseId) ?? []), s]);
    }

  // "PHI means protected health information": an acronym defined by a short noun phrase is its abbreviation.
  for (const s of all) {
    if (s.kind !== 'definition' || !s.actor || !MEANS.test(s.modality.trim())) continue;
    const term = s.actor.trim().replace(/^["“]|["”]$/g, '');
    if (!isAcronym(term)) continue;
    const [np] = leadingNounPhrases(s.action);
    const long = np ? normaliseLabel(np) : '';
    if (long && isConceptLabel(long) && long.split(' ').length >= 2 && !b.abbreviations.has(term)) b.abbreviations.set(term, long);
  }

  // Defined terms.
  const pendingBroader: Array<{ narrower: string; broaderPhrase: string; evidence: string }> = [];
  const pendingIncludes: Array<{ broader: string; narrowerPhrase: string; evidence: string }> = [];
  /**
   * A term and its definition: a "means" definition (strong) wins over a sentence that only says
   * what the term includes or is considered to be; a definition split over the items of one
   * lead-in ("X means: (1) …; (2) …") is joined.
   */
  const define = (term: string, text: string, strong: boolean, at: Located, evidence: string): string | null => {
    const id = b.concept(term, 'term', at);
    if (!id) return null;
    const d = b.drafts.get(id) as Draft;
    const current = d.definition;
    if (!current || (strong && !current.strong) || (strong === current.strong && at.order < current.order))
      d.definition = { text, clauseId: at.clause.id, order: at.order, strong };
    else if (
      strong &&
      current.clauseId !== at.clause.id &&
      at.clause.parentId &&
      located.get(current.clauseId)?.clause.parentId === at.clause.parentId
    )
      current.text = `${current.text}; ${text}`;
    b.relate('defines', at.clause.id, id, evidence);
    return id;
  };
  const defined = new Set<string>();
  for (const s of all) {
    if (s.kind !== 'definition' || !s.actor) continue;
    const at = located.get(s.clauseId) as Located;
    const cue = s.modality.trim().toLowerCase();
    if (/\bnot\b/.test(cue)) continue;
    const term = s.actor.trim();
    if (term.split(/\s+/).length > 6) continue;
    if (MEANS.test(cue)) {
      const id = define(term, s.action.trim(), true, at, s.id);
      if (!id) continue;
      defined.add(s.clauseId);
      const [head] = leadingNounPhrases(s.action);
      if (head) pendingBroader.push({ narrower: id, broaderPhrase: head, evidence: s.id });
      const including = /\b(?:including|includes|such as)\s+(.*)$/i.exec(s.action);
      if (including)
        for (const np of leadingNounPhrases(including[1] as string))
          pendingIncludes.push({ broader: id, narrowerPhrase: np, evidence: s.id });
    } else if (INCLUDES.test(cue)) {
      const id = define(term, s.sentence.trim(), false, at, s.id);
      if (!id) continue;
      defined.add(s.clauseId);
      for (const np of leadingNounPhrases(s.action)) pendingIncludes.push({ broader: id, narrowerPhrase: np, evidence: s.id });
    } else if (CLASSES.test(cue)) {
      const id = define(term, s.sentence.trim(), false, at, s.id);
      if (!id) continue;
      defined.add(s.clauseId);
      const [head] = leadingNounPhrases(s.action);
      if (head) pendingBroader.push({ narrower: id, broaderPhrase: head, evidence: s.id });
    }
  }
  // Entries of a definitions list that carry no definition statement: "Term: …", "Term – …",
  // "Term (ABBR) means …" in a section headed as definitions (or glossary, interpretation), and
  // "Term means …" anywhere.
  for (const at of located.values()) {
    if (defined.has(at.clause.id)) continue;
    const inDefinitions = at.clause.headingPath.some((h) => DEFINITION_HEADING.test(h));
    const entry = definitionEntry(at.clause.text, inDefinitions);
    if (!entry) continue;
    const id = define(entry.term, entry.text, true, at, at.clause.id);
    if (!id) continue;
    const [head] = leadingNounPhrases(entry.text);
    if (head) pendingBroader.push({ narrower: id, broaderPhrase: head, evidence: at.clause.id });
  }

  // Actors, actions and objects of the rules.
  const readings: StatementReading[] = [];
  /** How often a party is the acting subject of a rule, and how often an action's object. */
  const partyTally = new Map<string, { subject: number; object: number }>();
  /** An action concept's verb and object label ("accept gift" → accept, gift). */
  const actionParts = new Map<string, { verb: string; object: string }>();
  for (const s of all) {
    if (s.kind === 'definition') continue;
    const at = located.get(s.clauseId) as Located;
    const actors: string[] = [];
    const actions: string[] = [];
    const objects: string[] = [];
    const party = s.party ?? s.actor;
    // a noun-form action that opens with a gerund is a verb phrase ("responsible for making the Guidelines available").
    const gerund = s.actionForm === 'noun' ? /^([a-z]+ing)\s+(.*)$/.exec(s.action.trim()) : null;
    const verbs: VerbReading | null =
      s.actionForm === 'verb'
        ? readVerbs(s.action)
        : gerund && isGerund(gerund[1] as string) && !/^(?:of|and|or|in|on|for|to|by|at|with)\b/.test(gerund[2] as string)
          ? { verbs: [verbLemma(gerund[1] as string)], passive: false, rest: gerund[2] as string }
          : null;
    // The party is the rule's subject when the statement's own subject opens with it and acts (an active verb).
    const subjectHeads = new Set(s.actor ? leadingNounPhrases(s.actor).map((np) => b.canonical(normaliseLabel(np)).label) : []);
    if (party)
      for (const np of leadingNounPhrases(party)) {
        const id = b.concept(np, null, at);
        if (!id || actors.includes(id)) continue;
        actors.push(id);
        const acts = verbs !== null && !verbs.passive && subjectHeads.has(b.drafts.get(id)?.label as string);
        const tally = partyTally.get(id) ?? { subject: 0, object: 0 };
        if (acts) tally.subject += 1;
        partyTally.set(id, tally);
      }
    if (verbs || s.actionForm === 'verb') {
      if (verbs) {
        const objectPhrases = verbs.passive ? (s.actor ? leadingNounPhrases(s.actor) : []) : leadingNounPhrases(verbs.rest);
        const objectLabels: string[] = [];
        for (const np of objectPhrases.slice(0, OBJECT_CAP)) {
          const id = b.concept(np, 'object', at);
          if (id && !objects.includes(id)) {
            objects.push(id);
            objectLabels.push(b.drafts.get(id)?.label as string);
          }
        }
        for (const verb of verbs.verbs) {
          const phrases = objectLabels.length > 0 ? objectLabels.map((o) => [verb, o]) : LIGHT_VERBS.has(verb) ? [] : [[verb, '']];
          for (const [v, o] of phrases as Array<[string, string]>) {
            const id = b.concept(o ? `${v} ${o}` : v, 'action', at);
            if (!id) continue;
            if (o && !actionParts.has(id)) actionParts.set(id, { verb: v, object: o });
            if (!actions.includes(id)) actions.push(id);
          }
        }
      }
    } else {
      for (const np of leadingNounPhrases(s.action).slice(0, OBJECT_CAP)) {
        const id = b.concept(np, 'object', at);
        if (id && !objects.includes(id)) objects.push(id);
      }
    }
    for (const id of [...actors, ...actions, ...objects]) b.relate('governs', s.clauseId, id, s.id, s.kind);
    readings.push({ statement: s, actors, actions, objects });
  }
  // A party is an actor when it acts as the subject of a rule at least as often as rules act on it
  // ("the notice must contain …" and "provide the notice": a thing, not an actor); else it is an object.
  for (const r of readings)
    for (const o of r.objects) {
      const tally = partyTally.get(o);
      if (tally) tally.object += 1;
    }
  for (const [id, tally] of partyTally) {
    const d = b.drafts.get(id) as Draft;
    if (tally.subject > 0 && tally.subject >= tally.object) d.roles.add('actor');
    else if (d.roles.size === 0) d.roles.add('object');
  }

  // broader: head-noun compounds ("protected health information" → "health information"), the
  // nearest shorter head that is itself a concept; an action's is the same verb with such a head
  // ("report suspected violation" → "report violation"), else the bare verb when that is a concept.
  // A phrase with a preposition ("sale of protected health information") has its head before it.
  for (const [id, d] of b.drafts) {
    const first = (d.clauses.values().next().value as number | undefined) ?? 0;
    const evidence = [...d.clauses.entries()].find(([, order]) => order === first)?.[0] ?? id;
    const parts = actionParts.get(id);
    if (parts) {
      const words = parts.object.split(' ');
      const candidates = [...words.slice(1).map((_, k) => `${parts.verb} ${words.slice(k + 1).join(' ')}`), parts.verb];
      const to = candidates.map((c) => conceptId(c)).find((c) => c !== id && b.drafts.has(c));
      if (to) b.relate('broader', id, to, evidence);
      if (d.roles.size === 1) continue;
    }
    const words = d.label.split(' ');
    if (words.some((w) => FUNCTION_WORD.test(w))) continue;
    for (let k = 1; k < words.length; k += 1) {
      const suffix = conceptId(words.slice(k).join(' '));
      if (b.drafts.has(suffix)) {
        b.relate('broader', id, suffix, evidence);
        break;
      }
    }
  }
  // broader from definitions: "X means a Y that …" → X broader Y; "X includes Y" → Y broader X.
  const existing = (phrase: string): string | null => {
    const { label } = b.canonical(normaliseLabel(phrase));
    if (!label) return null;
    const words = label.split(' ');
    for (let k = 0; k < words.length; k += 1) {
      const id = conceptId(words.slice(k).join(' ') || label);
      if (b.drafts.has(id)) return id;
    }
    return null;
  };
  for (const p of pendingBroader) {
    const to = existing(p.broaderPhrase);
    if (to) b.relate('broader', p.narrower, to, p.evidence);
  }
  for (const p of pendingIncludes) {
    const { label } = b.canonical(normaliseLabel(p.narrowerPhrase));
    const from = label && isConceptLabel(label) ? conceptId(label) : null;
    if (from && b.drafts.has(from)) b.relate('broader', from, p.broader, p.evidence);
  }

  // related: concepts of the same statement, its actor and its objects, and objects named together
  // ("spill, leak or emission"); a pair is kept when each is among the other's most frequent
  // partners (a party every rule binds is not related to everything it does), and not when one is
  // already broader than the other.
  const pairCounts = new Map<string, number>();
  const pairEvidence = new Map<string, string[]>();
  const count = (x: string, y: string, statementId: string): void => {
    if (x === y) return;
    const key = x < y ? `${x}|${y}` : `${y}|${x}`;
    const evidence = pairEvidence.get(key) ?? [];
    if (evidence.includes(statementId)) return;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + 1);
    pairEvidence.set(key, [...evidence, statementId]);
  };
  for (const r of readings) {
    for (const a of r.actors) for (const o of r.objects) count(a, o, r.statement.id);
    r.objects.forEach((o, i) => r.objects.slice(i + 1).forEach((p) => count(o, p, r.statement.id)));
  }
  const partners = new Map<string, Array<{ other: string; count: number }>>();
  for (const [key, count] of pairCounts) {
    const [x, y] = key.split('|') as [string, string];
    partners.set(x, [...(partners.get(x) ?? []), { other: y, count }]);
    partners.set(y, [...(partners.get(y) ?? []), { other: x, count }]);
  }
  const top = new Map<string, Set<string>>();
  for (const [id, list] of partners)
    top.set(
      id,
      new Set(
        list
          .sort((p, q) => q.count - p.count || (p.other < q.other ? -1 : 1))
          .slice(0, RELATED_CAP)
          .map((p) => p.other),
      ),
    );
  for (const key of pairCounts.keys()) {
    const [x, y] = key.split('|') as [string, string];
    if (!top.get(x)?.has(y) || !top.get(y)?.has(x)) continue;
    if (b.relations.has(`broader:${x}>${y}`) || b.relations.has(`broader:${y}>${x}`)) continue;
    for (const e of pairEvidence.get(key) ?? []) b.relate('related', x, y, e);
  }

  // refersTo: cross-references that resolve to clauses of the same document.
  const resolve = (at: Located, ref: string): Clause | null => byNumbering.get(at.documentId)?.get(ref) ?? null;
  for (const at of located.values()) {
    for (const ref of references(at.clause.text, at.sectionNumbering)) {
      const target = resolve(at, ref);
      if (target && target.id !== at.clause.id) b.relate('refersTo', at.clause.id, target.id, at.clause.id);
    }
  }

  // exceptionOf: an exception clause carves out of the clause it names, else its parent, else the
  // rule before it in its section whose text names the most of the same concepts (rarer concepts
  // weigh more: a party every rule binds says nothing), else the rule just before it.
  const matcher = new ConceptMatcher(
    [...b.drafts.entries()].map(([id, d]) => ({
      id,
      prefLabel: d.label,
      altLabels: [...d.altLabels],
      roles: [...d.roles],
      definition: null,
      clauseIds: [],
      documentIds: [],
      origin: 'extracted' as const,
    })),
  );
  const ancestorsOf = (id: string): Set<string> => {
    const out = new Set<string>();
    for (let p = located.get(id)?.clause.parentId ?? null; p && !out.has(p); p = located.get(p)?.clause.parentId ?? null) out.add(p);
    return out;
  };
  const readingsOf = new Map<string, StatementReading[]>();
  for (const r of readings) readingsOf.set(r.statement.clauseId, [...(readingsOf.get(r.statement.clauseId) ?? []), r]);
  const named = new Map<string, Set<string>>();
  const namedIn = (clause: Clause): Set<string> => {
    let set = named.get(clause.id);
    if (!set) {
      set = new Set(matcher.find(clause.text).map((m) => m.conceptId));
      for (const r of readingsOf.get(clause.id) ?? []) for (const id of [...r.actions, ...r.objects]) set.add(id);
      named.set(clause.id, set);
    }
    return set;
  };
  const clauseFrequency = new Map<string, number>();
  for (const at of located.values()) for (const id of namedIn(at.clause)) clauseFrequency.set(id, (clauseFrequency.get(id) ?? 0) + 1);
  const weight = (id: string): number => Math.log((located.size + 1) / (clauseFrequency.get(id) ?? 1));
  const rules = (clauseId: string): boolean =>
    (statementsOf.get(clauseId) ?? []).some((s) => s.kind === 'obligation' || s.kind === 'prohibition' || s.kind === 'permission');
  const exceptionPairs = new Set<string>();
  for (const at of located.values()) {
    const own = statementsOf.get(at.clause.id) ?? [];
    const exceptions = own.filter((s) => s.kind === 'exception');
    const headed = at.clause.heading !== null && /\bexception/i.test(at.clause.heading);
    if (exceptions.length === 0 && !headed) continue;
    const evidence = exceptions[0]?.id ?? at.clause.id;
    // what the exception carves out of is named in what it says does not apply, not in its condition ("as permitted under paragraph (a)").
    // "Notwithstanding section 2.1, …" in its condition names it too.
    const text =
      exceptions.length > 0 ? exceptions.map((s) => `${s.actor ?? ''} ${s.action} ${overriding(s.condition)}`).join(' ') : at.clause.text;
    const refs = references(text, at.sectionNumbering);
    const cited = refs.map((ref) => resolve(at, ref)).filter((c): c is Clause => c !== null && c.id !== at.clause.id);
    let targets: string[] = cited.map((c) => c.id);
    if (targets.length === 0 && at.clause.parentId && located.has(at.clause.parentId)) targets = [at.clause.parentId];
    if (targets.length === 0) {
      const mine = namedIn(at.clause);
      // a cited section ("the thresholds in section 3.2"): its rules; else the rules before it in its own section.
      const citedSections = new Set(
        refs.map((ref) => sectionByNumbering.get(`${at.documentId}|${ref}`)).filter((id): id is string => !!id),
      );
      const inCited = [...located.values()].filter(
        (o) =>
          o.documentId === at.documentId &&
          o.clause.sectionId !== null &&
          citedSections.has(o.clause.sectionId) &&
          o.clause.id !== at.clause.id &&
          rules(o.clause.id),
      );
      const before =
        inCited.length > 0
          ? inCited
          : [...located.values()]
              .filter(
                (o) =>
                  o.documentId === at.documentId && o.clause.sectionId === at.clause.sectionId && o.order < at.order && rules(o.clause.id),
              )
              .sort((p, q) => q.order - p.order);
      const score = (o: Located): number => [...namedIn(o.clause)].filter((id) => mine.has(id)).reduce((sum, id) => sum + weight(id), 0);
      let fallback = before[0];
      let best = 0;
      for (const o of before) {
        const sc = score(o);
        if (sc > best + 1e-9) {
          best = sc;
          fallback = o;
        }
      }
      if (fallback) targets = [fallback.clause.id];
    }
    for (const t of targets) {
      b.relate('exceptionOf', at.clause.id, t, evidence);
      exceptionPairs.add(`${at.clause.id}|${t}`);
      exceptionPairs.add(`${t}|${at.clause.id}`);
    }
  }
  // A rule that says where its exceptions are ("except as provided in paragraph (a)(1)(v)",
  // "subject to section 4.2"): the clause it names is an exception of it.
  for (const s of all) {
    if (s.kind === 'definition' || s.kind === 'exception') continue;
    const at = located.get(s.clauseId) as Located;
    const pointer = [s.condition, s.exception]
      .flatMap((part) => [
        ...(part ?? '').matchAll(
          /\b(?:except(?: as)?(?: otherwise)? (?:provided|permitted|specified|described) (?:in|by|under)|subject to)\s+([^;]*)/gi,
        ),
      ])
      .map((m) => m[1] as string)
      .join(' ');
    if (!pointer) continue;
    for (const ref of references(pointer, at.sectionNumbering)) {
      const target = resolve(at, ref);
      if (!target || target.id === at.clause.id || ancestorsOf(at.clause.id).has(target.id)) continue;
      b.relate('exceptionOf', target.id, at.clause.id, s.id);
      exceptionPairs.add(`${at.clause.id}|${target.id}`);
      exceptionPairs.add(`${target.id}|${at.clause.id}`);
    }
  }

  // conflictsWith candidates: the same actor and action, opposite modality, conditions that can hold together.
  const opposite = (x: NormativeKind, y: NormativeKind): boolean =>
    (x === 'prohibition' && (y === 'permission' || y === 'obligation')) ||
    (y === 'prohibition' && (x === 'permission' || x === 'obligation'));
  /** Clauses in one line of descent, or one citing the other: a general rule and its own sub-rules are not in conflict. */
  const linked = (x: string, y: string): boolean =>
    ancestorsOf(x).has(y) || ancestorsOf(y).has(x) || b.relations.has(`refersTo:${x}>${y}`) || b.relations.has(`refersTo:${y}>${x}`);
  // The scope of a rule: the content words of its condition and of its action beyond the concepts
  // themselves ("disclose PHI in violation of such restriction" → violation, restriction), without
  // the words that run through the document's rules (in more than a tenth of them).
  const frequency = new Map<string, number>();
  for (const r of readings)
    for (const w of new Set(words(`${r.statement.condition ?? ''} ${r.statement.action}`))) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const common = (w: string): boolean => (frequency.get(w) ?? 0) > Math.max(2, readings.length / 10);
  const scope = new Map<string, Set<string>>();
  const scopeWords = (s: NormativeStatement): Set<string> => {
    const hit = scope.get(s.id);
    if (hit) return hit;
    const reading = readings.find((r) => r.statement.id === s.id);
    const named = new Set(
      [...(reading?.actors ?? []), ...(reading?.actions ?? []), ...(reading?.objects ?? [])].flatMap((id) =>
        words(b.drafts.get(id)?.label ?? ''),
      ),
    );
    const out = new Set(
      words(`${s.condition ?? ''} ${s.action}`).filter((w) => !named.has(w) && !common(w) && !named.has(w.replace(/s$/, ''))),
    );
    scope.set(s.id, out);
    return out;
  };
  const groups = new Map<string, StatementReading[]>();
  for (const r of readings) {
    if (!['obligation', 'prohibition', 'permission'].includes(r.statement.kind)) continue;
    for (const a of r.actors)
      for (const act of r.actions) {
        const key = `${a}|${act}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
  }
  for (const list of groups.values()) {
    for (let i = 0; i < list.length; i += 1)
      for (let j = i + 1; j < list.length; j += 1) {
        const x = (list[i] as StatementReading).statement;
        const y = (list[j] as StatementReading).statement;
        if (x.clauseId === y.clauseId || !opposite(x.kind, y.kind)) continue;
        if (exceptionPairs.has(`${x.clauseId}|${y.clauseId}`) || linked(x.clauseId, y.clauseId)) continue;
        // a prohibition with its own carve-out ("except as permitted …", "unless …") already says where the act is allowed.
        const prohibition = x.kind === 'prohibition' ? x : y;
        if (prohibition.exception) continue;
        const cx = scopeWords(x);
        const cy = scopeWords(y);
        const overlap = cx.size === 0 || cy.size === 0 || [...cx].some((w) => cy.has(w));
        if (!overlap) continue;
        const [from, to] = x.clauseId < y.clauseId ? [x, y] : [y, x];
        b.relate('conflictsWith', from.clauseId, to.clauseId, from.id);
        b.relate('conflictsWith', from.clauseId, to.clauseId, to.id);
      }
  }

  // A learnt abbreviation is an alternative label of its long form wherever that is a concept.
  for (const [acronym, long] of b.abbreviations) b.drafts.get(conceptId(long))?.altLabels.add(acronym);

  const concepts: Concept[] = [...b.drafts.entries()]
    .map(([id, d]) => ({
      id,
      prefLabel: d.label,
      altLabels: [...d.altLabels].sort(),
      roles: [...d.roles].sort(kindOrder),
      definition: d.definition ? { text: d.definition.text, clauseId: d.definition.clauseId } : null,
      clauseIds: [...d.clauses.entries()].sort((p, q) => p[1] - q[1]).map(([c]) => c),
      documentIds: [...d.documents].sort(),
      origin: 'extracted' as const,
    }))
    .sort((p, q) => (p.id < q.id ? -1 : p.id > q.id ? 1 : 0));
  const relations = [...b.relations.values()]
    .map((r) => ({ ...r, evidence: [...r.evidence].sort() }))
    .sort((p, q) => (p.id < q.id ? -1 : p.id > q.id ? 1 : 0));
  return { concepts, relations };
}
