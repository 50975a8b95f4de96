import { z } from 'zod';
import { DocumentTree, NormativeKind, NormativeStatement, Section } from './model';
import { subjectParts } from './statements';

export { designatorChain, designatorLevel, romanValue, ParagraphPathTracker, type Designator } from './designators';

/**
 * Scoring extracted normative statements against a hand-marked gold set (one JSON object per
 * line: clause, kind, actor, action, condition, text), with legal references such as
 * "164.502(a)(5)(ii)(B)(2)(viii)" as the common clause key.
 */

export const GoldStatement = z.object({
  clause: z.string().min(1),
  kind: NormativeKind,
  actor: z.string().min(1),
  action: z.string().min(1),
  condition: z.string().nullable(),
  text: z.string().min(1),
});
export type GoldStatement = z.infer<typeof GoldStatement>;

/** Parse a gold JSONL file; throws naming the line of the first invalid record. */
export function parseGoldJsonl(text: string): GoldStatement[] {
  const out: GoldStatement[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new Error(`gold line ${i + 1}: not JSON`);
    }
    const parsed = GoldStatement.safeParse(raw);
    if (!parsed.success)
      throw new Error(`gold line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    out.push(parsed.data);
  });
  return out;
}

// ------------------------------------------------------------- legal references ------------

export function formatReference(section: string, path: readonly string[]): string {
  return `${section}${path.map((p) => `(${p})`).join('')}`;
}

/** "§ 164.502 Uses and …" → "164.502"; "3.2 Gifts" (explicitly numbered) → "3.2"; else the numbering. */
export function sectionReference(section: Pick<Section, 'title' | 'numbering'>): string {
  const m = /§+\s*(\d+(?:\.\d+)*[a-z]?)/i.exec(section.title) ?? /^(\d+(?:\.\d+)+)$/.exec(section.numbering);
  return m ? (m[1] as string) : section.numbering;
}

export interface ClauseReference {
  /** "164.502(a)(1)(i)", or the section alone for a clause without designators. */
  reference: string;
  section: string;
  path: string[];
}

/**
 * The legal reference of each clause of a parsed tree, from the parser's numbering (which nests
 * designators as a reader writes them: "164.502(a)(1)(i)"): a de-duplication suffix ("_2") is
 * dropped, and an unnumbered clause (a section's introduction "164.512.p1", an example
 * "164.502(b).x1") takes the reference of the paragraph or section it belongs to.
 */
export function clauseReferences(tree: DocumentTree): Map<string, ClauseReference> {
  const sections = new Map(tree.sections.map((s) => [s.id, s]));
  const out = new Map<string, ClauseReference>();
  for (const clause of tree.clauses) {
    const section = clause.sectionId ? sections.get(clause.sectionId) : undefined;
    const sectionRef = section ? sectionReference(section) : '';
    let numbering = clause.numbering.replace(/_\d+$/, '');
    if (!clause.numbered) numbering = numbering.replace(/\.[a-z]+\d+$/, '');
    const parsed = parseReference(numbering);
    const path = parsed.section === sectionRef ? parsed.path : [];
    out.set(clause.id, { reference: formatReference(sectionRef, path), section: sectionRef, path });
  }
  return out;
}

/** Split "164.502(a)(1)(i)" into its section and paragraph path. */
export function parseReference(ref: string): { section: string; path: string[] } {
  const at = ref.indexOf('(');
  const section = (at < 0 ? ref : ref.slice(0, at)).trim();
  const path = at < 0 ? [] : [...ref.slice(at).matchAll(/\(([^)]+)\)/g)].map((m) => (m[1] as string).replace(/\*/g, ''));
  return { section, path };
}

export type ClauseRelation = 'same' | 'ancestor' | 'descendant';

/** How reference `a` relates to `b`: the same paragraph, an ancestor of it, a descendant, or none. */
export function clauseRelation(a: string, b: string): ClauseRelation | null {
  const x = parseReference(a);
  const y = parseReference(b);
  if (x.section !== y.section) return null;
  const n = Math.min(x.path.length, y.path.length);
  for (let i = 0; i < n; i++) if (x.path[i] !== y.path[i]) return null;
  if (x.path.length === y.path.length) return 'same';
  return x.path.length < y.path.length ? 'ancestor' : 'descendant';
}

/**
 * The part of a document a gold file was marked over, as legal references: a whole section
 * ("164.510") or a paragraph ("164.530(a)"). A statement is in scope when its reference is one of
 * them or lies beneath one.
 */
export type GoldScope = readonly string[];

/** The default scope of a gold file: every section it has a statement in, whole. */
export function goldSectionsScope(gold: readonly Pick<GoldStatement, 'clause'>[]): string[] {
  return [...new Set(gold.map((g) => parseReference(g.clause).section))];
}

const REFERENCE = /^\d+(?:\.\d+)*[a-z]?(?:\([^()\s]+\))*$/i;

/**
 * Parse a scope written as comma-separated references, where the last designator of one may be a
 * range of letters or numbers: "164.510, 164.530(a)-(f)" → 164.510, 164.530(a), …, 164.530(f).
 * Throws naming the item that is not a reference or whose range cannot be expanded.
 */
export function parseScope(spec: string): string[] {
  const out: string[] = [];
  const items = spec
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (items.length === 0) throw new Error(`scope "${spec}" names no reference`);
  for (const item of items) {
    const range = /^(.*)\(([^()]+)\)-\(([^()]+)\)$/.exec(item);
    if (!range) {
      if (!REFERENCE.test(item)) throw new Error(`scope item "${item}" is not a legal reference such as 164.530(a)`);
      out.push(item);
      continue;
    }
    const [, base, from, to] = range as unknown as [string, string, string, string];
    if (!REFERENCE.test(base)) throw new Error(`scope item "${item}" is not a legal reference such as 164.530(a)-(f)`);
    let labels: string[];
    if (/^\d+$/.test(from) && /^\d+$/.test(to) && Number(from) <= Number(to)) {
      labels = Array.from({ length: Number(to) - Number(from) + 1 }, (_, k) => String(Number(from) + k));
    } else if (/^[a-z]$/.test(from) && /^[a-z]$/.test(to) && from <= to) {
      labels = Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, k) => String.fromCharCode(from.charCodeAt(0) + k));
    } else {
      throw new Error(`scope item "${item}": a range runs between two single letters or two numbers, in order`);
    }
    for (const label of labels) out.push(`${base}(${label})`);
  }
  return out;
}

/** Whether a legal reference is one of the scope's references or lies beneath one. */
export function inScope(reference: string, scope: GoldScope): boolean {
  return scope.some((s) => {
    const relation = clauseRelation(s, reference);
    return relation === 'same' || relation === 'ancestor';
  });
}

// ------------------------------------------------------------- text and spans --------------

const ARTICLES = new Set(['a', 'an', 'the']);

export interface SpanNormalisation {
  /** Treat "protected health information" and "PHI" as the same words (when the gold uses "PHI"). */
  phi: boolean;
}

/**
 * Normalise a span for comparison: lower-case, "protected health information" → "phi" (when
 * asked), Markdown '*' and punctuation replaced by spaces, the articles a/an/the dropped, spaces
 * collapsed.
 */
export function normaliseSpan(text: string | null, options: SpanNormalisation = { phi: true }): string {
  if (text === null) return '';
  let s = text.toLowerCase().replace(/\*/g, '');
  if (options.phi) s = s.replace(/\bprotected health information\b/g, 'phi');
  return s
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0 && !ARTICLES.has(w))
    .join(' ');
}

/**
 * The tokens of a normalised span, each reduced to a crude stem so that inflections of one word
 * agree ("documented" / "document", "requests" / "request", "disclosing" / "disclosure"): a word
 * of more than four letters loses one ending of -ing, -ed, -ure, -es, -s or -e.
 */
export function spanTokens(text: string | null, options?: SpanNormalisation): string[] {
  const n = normaliseSpan(text, options);
  return n === '' ? [] : n.split(' ').map(stem);
}

export function stem(word: string): string {
  return word.length > 4 ? word.replace(/(?:ing|ed|ure|es|s|e)$/, '') : word;
}

function multisetOverlap(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of b) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common += 1;
      counts.set(t, c - 1);
    }
  }
  return common;
}

export interface SpanScore {
  precision: number;
  recall: number;
  f1: number;
  /** The normalised strings are equal (both empty counts as equal). */
  exact: boolean;
}

/**
 * Token-level overlap of a predicted span against a gold span (bags of normalised tokens).
 * Both empty: 1/1/1; exactly one empty: 0/0/0.
 */
export function spanScore(predicted: string | null, gold: string | null, options?: SpanNormalisation): SpanScore {
  const p = spanTokens(predicted, options);
  const g = spanTokens(gold, options);
  const exact = p.join(' ') === g.join(' ');
  if (p.length === 0 && g.length === 0) return { precision: 1, recall: 1, f1: 1, exact };
  if (p.length === 0 || g.length === 0) return { precision: 0, recall: 0, f1: 0, exact };
  const common = multisetOverlap(p, g);
  const precision = common / p.length;
  const recall = common / g.length;
  const f1 = common === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, exact };
}

/** Function words left out of the text overlap used for matching (never out of span scores). */
const FUNCTION_WORDS = new Set(
  'to of or and in for by with as this that is are be under on any such from its it if than not may must'.split(' '),
);

export interface TextOverlap {
  /** |A∩B| / min(|A|,|B|): one text (nearly) inside the other. */
  coefficient: number;
  /** |A∩B| / max(|A|,|B|): each text (nearly) inside the other. */
  mutual: number;
}

/**
 * Overlap of two texts as sets of normalised content tokens (as for spans, with function words
 * such as "to", "of", "or", "may" left out so that shared boilerplate does not count).
 */
export function textOverlap(a: string, b: string): TextOverlap {
  const x = new Set(spanTokens(a).filter((t) => !FUNCTION_WORDS.has(t)));
  const y = new Set(spanTokens(b).filter((t) => !FUNCTION_WORDS.has(t)));
  if (x.size === 0 || y.size === 0) return { coefficient: 0, mutual: 0 };
  let common = 0;
  for (const t of x) if (y.has(t)) common += 1;
  return { coefficient: common / Math.min(x.size, y.size), mutual: common / Math.max(x.size, y.size) };
}

// ------------------------------------------------------------- matching --------------------

/** An extracted statement with the legal reference of its clause. */
export interface ReferencedStatement {
  statement: Pick<
    NormativeStatement,
    'kind' | 'actor' | 'party' | 'action' | 'condition' | 'exception' | 'sentence' | 'modality' | 'clauseNumbering'
  >;
  reference: string;
}

export interface MatchOptions {
  /** Same paragraph: minimum overlap coefficient of gold text and extracted sentence; default 0.5. */
  threshold: number;
  /**
   * Ancestor or descendant paragraph: minimum mutual overlap (the same text anchored at another
   * level, e.g. "(b)" for "(b)(1)"); default 0.8. A parent's lead-in sentence does not match its items.
   */
  relatedThreshold: number;
  /** Also pair a gold statement with one of an ancestor or descendant paragraph; default true. */
  relatedClauses: boolean;
}

export const DEFAULT_MATCH_OPTIONS: MatchOptions = { threshold: 0.5, relatedThreshold: 0.8, relatedClauses: true };

export interface GoldPair {
  gold: number;
  predicted: number;
  /** How the gold paragraph relates to the extracted statement's ("descendant": gold is below it). */
  relation: ClauseRelation;
  /** The overlap coefficient of gold text and extracted sentence. */
  overlap: number;
}

/**
 * One-to-one matching of gold to extracted statements: a pair needs the same paragraph and an
 * overlap coefficient at or above `threshold`, or (with `relatedClauses`) an ancestor or descendant
 * paragraph in the same section and a mutual overlap at or above `relatedThreshold`. Pairs are taken greedily, best first: same paragraph before related ones, then
 * higher overlap, then document order.
 */
export function matchStatements(
  gold: readonly GoldStatement[],
  predicted: readonly ReferencedStatement[],
  options: Partial<MatchOptions> = {},
): GoldPair[] {
  const { threshold, relatedThreshold, relatedClauses } = { ...DEFAULT_MATCH_OPTIONS, ...options };
  const candidates: GoldPair[] = [];
  gold.forEach((g, gi) => {
    predicted.forEach((p, pi) => {
      const relation = clauseRelation(g.clause, p.reference);
      if (relation === null || (relation !== 'same' && !relatedClauses)) return;
      const overlap = textOverlap(g.text, p.statement.sentence);
      const enough = relation === 'same' ? overlap.coefficient >= threshold : overlap.mutual >= relatedThreshold;
      if (enough) candidates.push({ gold: gi, predicted: pi, relation, overlap: overlap.coefficient });
    });
  });
  candidates.sort(
    (a, b) =>
      Number(b.relation === 'same') - Number(a.relation === 'same') ||
      b.overlap - a.overlap ||
      a.gold - b.gold ||
      a.predicted - b.predicted,
  );
  const usedGold = new Set<number>();
  const usedPredicted = new Set<number>();
  const pairs: GoldPair[] = [];
  for (const c of candidates) {
    if (usedGold.has(c.gold) || usedPredicted.has(c.predicted)) continue;
    usedGold.add(c.gold);
    usedPredicted.add(c.predicted);
    pairs.push(c);
  }
  return pairs.sort((a, b) => a.gold - b.gold);
}

// ------------------------------------------------------------- scoring ---------------------

export interface PrecisionRecall {
  precision: number;
  recall: number;
  f1: number;
}

export function prf(tp: number, predicted: number, actual: number): PrecisionRecall {
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = actual === 0 ? 0 : tp / actual;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

/** A predicted span matches a gold span when the F1 of their normalised tokens reaches this. */
export const SPAN_MATCH_F1 = 0.5;

export interface SpanSummary {
  /** Means over matched pairs of the per-pair token precision, recall and F1. */
  precision: number;
  recall: number;
  f1: number;
  /** Share of matched pairs whose normalised spans are equal. */
  exact: number;
  /**
   * Span matching, over matched statement pairs: a predicted span is correct when its token F1 with
   * the gold span is at least `SPAN_MATCH_F1`. Precision = correct / pairs with a predicted span;
   * recall = correct / pairs with a gold span (pairs where both are empty are agreement, in neither).
   */
  matched: PrecisionRecall & { correct: number; predicted: number; gold: number };
  /**
   * The same end to end: extracted statements without a gold match count as wrong predicted spans,
   * gold statements without a match as missed gold spans.
   */
  endToEnd: PrecisionRecall;
}

export interface KindScores {
  /** Over matched pairs: share with the gold kind. */
  accuracy: number;
  /** Per kind over matched pairs (predicted k among pairs / gold k among pairs). */
  matched: Record<NormativeKind, PrecisionRecall & { gold: number; predicted: number }>;
  /** Per kind end to end: unmatched gold counts as missed, unmatched extracted as wrong. */
  endToEnd: Record<NormativeKind, PrecisionRecall & { gold: number; predicted: number }>;
  macroMatched: PrecisionRecall;
  macroEndToEnd: PrecisionRecall;
  /** End to end over all statements: statements paired with a gold statement of the same kind / extracted, / gold. */
  microEndToEnd: PrecisionRecall;
  /** confusion[gold kind][predicted kind] over matched pairs. */
  confusion: Record<NormativeKind, Record<NormativeKind, number>>;
}

export interface GoldScore {
  gold: number;
  predicted: number;
  matched: number;
  sameClause: number;
  detection: PrecisionRecall;
  kind: KindScores;
  actor: SpanSummary;
  action: SpanSummary;
  condition: SpanSummary;
  pairs: GoldPair[];
  missedGold: number[];
  falsePositives: number[];
}

export const KINDS: readonly NormativeKind[] = NormativeKind.options;

/**
 * The predicted condition compared with gold's: what restricts the subject ("that has agreed to a
 * restriction …", from the framer's actor), the framer's condition and its exception, joined by "; ".
 */
export function predictedCondition(s: Pick<NormativeStatement, 'actor' | 'condition' | 'exception'>): string | null {
  const parts = [subjectParts(s.actor).qualifier, s.condition, s.exception].filter((x): x is string => x !== null && x.trim() !== '');
  return parts.length > 0 ? parts.join('; ') : null;
}

/**
 * The predicted action compared with gold's. Where the statement's subject is not the party it binds
 * (a definition's term, "Sale of protected health information does not include …", "This
 * requirement does not apply to …"), the subject and cue are part of what the rule says and the
 * gold writes them into its action ("sale of PHI means …"): the subject, cue and action are
 * compared. Otherwise the framer's action (the verb phrase) alone.
 */
export function predictedAction(s: Pick<NormativeStatement, 'actor' | 'party' | 'action' | 'modality'>): string {
  const head = subjectParts(s.actor).head;
  if (head && s.party && head !== s.party) return `${head} ${s.modality} ${s.action}`;
  return s.action;
}

/** The predicted actor compared with gold's: the party the statement binds, else the head of its subject. */
export function predictedActor(s: Pick<NormativeStatement, 'actor' | 'party'>): string | null {
  return s.party ?? subjectParts(s.actor).head;
}

interface SpanPair {
  score: SpanScore;
  predicted: boolean;
  gold: boolean;
}

function summarise(pairs: SpanPair[], unmatchedPredicted: number, unmatchedGold: number): SpanSummary {
  const scores = pairs.map((p) => p.score);
  const n = scores.length;
  const mean = (f: (s: SpanScore) => number): number => (n === 0 ? 0 : scores.reduce((a, s) => a + f(s), 0) / n);
  const correct = pairs.filter((p) => p.predicted && p.gold && p.score.f1 >= SPAN_MATCH_F1).length;
  const predicted = pairs.filter((p) => p.predicted).length;
  const gold = pairs.filter((p) => p.gold).length;
  return {
    precision: mean((s) => s.precision),
    recall: mean((s) => s.recall),
    f1: mean((s) => s.f1),
    exact: mean((s) => (s.exact ? 1 : 0)),
    matched: { ...prf(correct, predicted, gold), correct, predicted, gold },
    endToEnd: prf(correct, predicted + unmatchedPredicted, gold + unmatchedGold),
  };
}

function spanPair(predicted: string | null, gold: string | null, span: SpanNormalisation): SpanPair {
  return {
    score: spanScore(predicted, gold, span),
    predicted: spanTokens(predicted, span).length > 0,
    gold: spanTokens(gold, span).length > 0,
  };
}

function macro(per: Record<NormativeKind, PrecisionRecall & { gold: number; predicted: number }>): PrecisionRecall {
  const present = KINDS.filter((k) => per[k].gold > 0 || per[k].predicted > 0);
  const n = present.length;
  const precision = n === 0 ? 0 : present.reduce((a, k) => a + per[k].precision, 0) / n;
  const recall = n === 0 ? 0 : present.reduce((a, k) => a + per[k].recall, 0) / n;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

function zeroByKind(): Record<NormativeKind, number> {
  return { obligation: 0, prohibition: 0, permission: 0, exception: 0, definition: 0 };
}

/** Match and score extracted statements against gold (both already limited to the same sections). */
export function scoreAgainstGold(
  gold: readonly GoldStatement[],
  predicted: readonly ReferencedStatement[],
  options: Partial<MatchOptions & SpanNormalisation> = {},
): GoldScore {
  const pairs = matchStatements(gold, predicted, options);
  const span: SpanNormalisation = { phi: options.phi ?? true };
  const confusion = Object.fromEntries(KINDS.map((k) => [k, zeroByKind()])) as Record<NormativeKind, Record<NormativeKind, number>>;
  const actor: SpanPair[] = [];
  const action: SpanPair[] = [];
  const condition: SpanPair[] = [];
  for (const pair of pairs) {
    const g = gold[pair.gold] as GoldStatement;
    const p = (predicted[pair.predicted] as ReferencedStatement).statement;
    confusion[g.kind][p.kind] += 1;
    actor.push(spanPair(predictedActor(p), g.actor, span));
    action.push(spanPair(predictedAction(p), g.action, span));
    condition.push(spanPair(predictedCondition(p), g.condition, span));
  }
  const goldByKind = zeroByKind();
  for (const g of gold) goldByKind[g.kind] += 1;
  const predictedByKind = zeroByKind();
  for (const p of predicted) predictedByKind[p.statement.kind] += 1;
  const matchedPer = {} as KindScores['matched'];
  const endToEndPer = {} as KindScores['endToEnd'];
  for (const k of KINDS) {
    const tp = confusion[k][k];
    const goldK = KINDS.reduce((a, j) => a + confusion[k][j], 0);
    const predK = KINDS.reduce((a, j) => a + confusion[j][k], 0);
    matchedPer[k] = { ...prf(tp, predK, goldK), gold: goldK, predicted: predK };
    endToEndPer[k] = { ...prf(tp, predictedByKind[k], goldByKind[k]), gold: goldByKind[k], predicted: predictedByKind[k] };
  }
  const agree = KINDS.reduce((a, k) => a + confusion[k][k], 0);
  const matchedGold = new Set(pairs.map((p) => p.gold));
  const matchedPredicted = new Set(pairs.map((p) => p.predicted));
  const unmatchedP = (f: (p: ReferencedStatement['statement']) => string | null): number =>
    predicted.filter((p, i) => !matchedPredicted.has(i) && spanTokens(f(p.statement), span).length > 0).length;
  const unmatchedG = (f: (g: GoldStatement) => string | null): number =>
    gold.filter((g, i) => !matchedGold.has(i) && spanTokens(f(g), span).length > 0).length;
  return {
    gold: gold.length,
    predicted: predicted.length,
    matched: pairs.length,
    sameClause: pairs.filter((p) => p.relation === 'same').length,
    detection: prf(pairs.length, predicted.length, gold.length),
    kind: {
      accuracy: pairs.length === 0 ? 0 : agree / pairs.length,
      matched: matchedPer,
      endToEnd: endToEndPer,
      macroMatched: macro(matchedPer),
      macroEndToEnd: macro(endToEndPer),
      microEndToEnd: prf(agree, predicted.length, gold.length),
      confusion,
    },
    actor: summarise(
      actor,
      unmatchedP((p) => predictedActor(p)),
      unmatchedG((g) => g.actor),
    ),
    action: summarise(
      action,
      unmatchedP((p) => predictedAction(p)),
      unmatchedG((g) => g.action),
    ),
    condition: summarise(
      condition,
      unmatchedP((p) => predictedCondition(p)),
      unmatchedG((g) => g.condition),
    ),
    pairs,
    missedGold: gold.map((_, i) => i).filter((i) => !matchedGold.has(i)),
    falsePositives: predicted.map((_, i) => i).filter((i) => !matchedPredicted.has(i)),
  };
}
