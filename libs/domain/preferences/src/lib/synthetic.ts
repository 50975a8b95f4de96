import { createHash } from 'node:crypto';
import { polarityOf, stancesOf } from '@studio/auditing';
import { citeClause, citedRefs, splitSentences, valuesByPriority, type ContextValues, type Example } from '@studio/framing';
import { normaliseText } from './aggregate';
import type { PreferenceInput, RejectedKind } from './records';

/**
 * Synthetic preference pairs from a dataset version's examples: the example's grounded answer is
 * always the chosen one; the rejected one is
 * (a) the answer with only its verdict reversed ("No, this violates …" -> "Yes, this complies with
 *     …"), the rule it quotes and its citation kept: a minimal contrast, so that what separates the
 *     pair is the verdict alone, not its length, grounding or citation (violating when it endorses
 *     a violation, else contradicting the rule); where the answer opens with no yes/no verdict to
 *     reverse, the example's own `rejected` answer takes its place,
 * (b) an ungrounded variant of the answer: its verdict without the clause text and citation that
 *     ground it (or, for a one-sentence answer, without its citation), and
 * (c) for a permission or a compliant scenario, a needless refusal of the (benign) question.
 * Each kind differs from the chosen answer in one respect only: the verdict, the grounding, or
 * answering at all.
 * Every text comes from the example itself, except the refusals, which are the generic ways an
 * assistant declines and name nothing of any policy.
 */

export interface SyntheticContext {
  contextId: string;
  datasetVersionId: string;
  /** The dataset version's system prompt (the prompt of every pair). */
  systemPrompt: string | null;
  values: ContextValues | null;
}

/** Generic needless refusals (no policy's words): the one for an example is chosen by its id. */
export const NEEDLESS_REFUSALS: readonly string[] = [
  "I'm sorry, but I can't help with that.",
  "I can't advise on that question; please ask the people responsible for these rules.",
  "I'm not able to answer that. You may want to consult someone else.",
];

/** Parenthesised citations, one level of nested parentheses allowed: "(§3.2.1)", "(§ 164.502(a)(1))", "(see §§ 2.1, 2.3)". */
const CITATION = /\s*\((?:[^()]|\([^()]*\))*§(?:[^()]|\([^()]*\))*\)/g;

/** The text without its parenthesised citations, with the spacing and punctuation they leave behind tidied. */
export function withoutCitations(text: string): string {
  return text
    .replace(CITATION, '')
    .replace(/\s+([.,;:!?])/g, '$1')
    .replace(/([.!?])[.]+/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/**
 * The answer without what grounds it: an answer of several sentences is cut to its first (the
 * verdict, "No." / "Yes, refusing complies with …"), citations removed; a one-sentence answer loses
 * its citations. Null when the answer cites nothing (it is not grounded to begin with) or nothing
 * citation-free is left.
 */
export function ungroundedVariant(answer: string): string | null {
  if (citedRefs(answer).length === 0) return null;
  // A bare "Yes." / "No." opening is the verdict (sentence splitting keeps "No." with what follows, as in "No. 5").
  const bare = /^\s*((?:yes|no)\.)\s+\S/i.exec(answer);
  const sentences = bare ? [bare[1] as string, answer.slice(bare[0].length - 1)] : splitSentences(answer);
  const candidate = withoutCitations(sentences.length > 1 ? (sentences[0] as string) : answer);
  if (candidate.length === 0 || citedRefs(candidate).length > 0 || /§/.test(candidate)) return null;
  return candidate;
}

/**
 * Verdict wording and its opposite, in the head of an answer (before its first ":" or full stop).
 * General conduct-rule language, not any one policy's: each phrase maps to its negation, both ways.
 */
const VERDICT_OPPOSITES: ReadonlyArray<readonly [string, string]> = [
  ['violates', 'complies with'],
  ['violated', 'complied with'],
  ['violate', 'comply with'],
  ['complies', 'does not comply'],
  ['is not consistent with', 'is consistent with'],
  ['is inconsistent with', 'is consistent with'],
  ['goes against', 'is in line with'],
  ['breaks', 'follows'],
  ['is not allowed', 'is allowed'],
  ['is not permitted', 'is permitted'],
  ['is prohibited', 'is not prohibited'],
  ['is not required', 'is required'],
  ['is not optional', 'is optional'],
  ['does not apply', 'applies'],
  ['is not fine', 'is fine'],
  ['is a breach', 'is not a breach'],
];
const OPPOSITE = new Map(VERDICT_OPPOSITES.flatMap(([a, b]) => [[a, b] as const, [b, a] as const]));
/** Longest phrases first, so that "is not allowed" is read before "is allowed" could be. */
const VERDICT_PHRASE = new RegExp(
  `\\b(?:${[...OPPOSITE.keys()]
    .sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/ /g, '\\s+'))
    .join('|')})\\b`,
  'gi',
);

/**
 * The answer with only its verdict reversed: the opening "Yes" / "No" swapped, and every verdict
 * phrase of its head ("violates", "is allowed", "goes against", …) swapped for its opposite; the
 * rest, the rule and its citation, verbatim. Null when the answer opens with no yes/no verdict
 * ("It depends …"), since there is then no single verdict to reverse.
 */
export function reversedVerdict(answer: string): string | null {
  const text = answer.trim();
  const opening = /^(["'\u201C\u2018*_]*)(yes|no)\b/i.exec(text);
  if (!opening || polarityOf(text) === null) return null;
  const word = opening[2] as string;
  const swapped = word.toLowerCase() === 'yes' ? 'no' : 'yes';
  const cased =
    word === word.toUpperCase()
      ? swapped.toUpperCase()
      : word === word.toLowerCase()
        ? swapped
        : `${swapped[0]?.toUpperCase()}${swapped.slice(1)}`;
  const rest = text.slice(opening[0].length);
  const end = rest.search(/[:.](?:\s|$)/);
  const head = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '' : rest.slice(end);
  const flippedHead = head.replace(VERDICT_PHRASE, (phrase) => {
    const opposite = OPPOSITE.get(phrase.toLowerCase().replace(/\s+/g, ' '));
    return opposite ?? phrase;
  });
  return `${opening[1]}${cased}${flippedHead}${tail}`;
}

function refusalFor(exampleId: string): string {
  const h = createHash('sha256').update(exampleId).digest();
  return NEEDLESS_REFUSALS[(h[0] as number) % NEEDLESS_REFUSALS.length] as string;
}

/**
 * How the example's answer cites its clauses, for explanations: its parenthesised citations as it
 * writes them ("§3.2.1", "§ 164.502(a)(1)"), else the cited clauses' numbers.
 */
function citationsOf(example: Example): string[] {
  // One parenthesis may cite several clauses: "(§3.4.1, §3.4.2)" is two citations, "(§§ 164.506, 164.510)" one list.
  const written = [...example.answer.matchAll(CITATION)].flatMap((m) =>
    m[0]
      .trim()
      .slice(1, -1)
      .replace(/^see\s+/i, '')
      .split(/\s*[,;]\s*(?=§)/)
      .map((c) => c.trim()),
  );
  const cited = written.length > 0 ? written : example.clauseRefs.map((r) => citeClause(r));
  return [...new Set(cited)];
}

function listed(items: readonly string[]): string {
  return items.length <= 2 ? items.join(' and ') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Whether the example's own rejected answer endorses a violation rather than only contradicting the
 * rule: it approves a violating scenario, or, on a prohibition, it answers yes or takes a permitting
 * or exempting stance ("can", "is allowed", "is optional").
 */
function rejectedKindOf(example: Example, rejected: string): RejectedKind {
  if (example.label === 'violating') return 'violating';
  if (example.statementKind === 'prohibition') {
    const stances = stancesOf(rejected);
    if (polarityOf(rejected) === 'yes' || stances.has('permit') || stances.has('exempt')) return 'violating';
  }
  return 'contradicting';
}

/** Examples that make pairs: every scenario, and every Q&A on a prohibition or a permission. */
function inScope(e: Example): boolean {
  return e.kind === 'scenario' || e.statementKind === 'prohibition' || e.statementKind === 'permission';
}

/** A needless refusal is worse than the answer where the question is benign: a permission, or a scenario that complies. */
function benign(e: Example): boolean {
  return e.label === 'compliant' || (e.statementKind === 'permission' && e.label !== 'violating');
}

/** Synthetic pairs from a dataset version's examples (those with a `rejected` answer, plus ungrounded and needless-refusal variants). */
export function syntheticPreferences(examples: Example[], ctx: SyntheticContext): PreferenceInput[] {
  const rank = new Map((ctx.values ? valuesByPriority(ctx.values) : []).map((v, i) => [v.name, i]));
  const out: PreferenceInput[] = [];
  for (const example of examples) {
    if (!inScope(example)) continue;
    const values = [...example.values].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
    const refs = citationsOf(example);
    const cites = listed(refs);
    const one = refs.length === 1;
    const chosen = example.answer.trim();
    const taken = new Set([normaliseText(chosen)]);
    const pair = (rejected: string, rejectedKind: RejectedKind, explanation: string): void => {
      const key = normaliseText(rejected);
      if (key.length === 0 || taken.has(key)) return;
      taken.add(key);
      out.push({
        contextId: ctx.contextId,
        prompt: example.question,
        systemPrompt: ctx.systemPrompt,
        retrievedClauseIds: [],
        clauseIds: [...example.clauseIds],
        chosen,
        rejected,
        source: 'synthetic',
        rejectedKind,
        values,
        annotator: 'framer',
        explanation,
        edited: false,
        origin: { datasetVersionId: ctx.datasetVersionId, exampleId: example.id, auditId: null, runId: null },
      });
    };
    // The reversed verdict says what the example's own rejected answer says, in the chosen answer's
    // words: where it exists it replaces that answer, whose other differences (length, wording, no
    // citation) would let a model separate the pair without learning the verdict.
    const reversed = reversedVerdict(chosen);
    if (reversed === null && example.rejected !== null) {
      const kind = rejectedKindOf(example, example.rejected);
      pair(
        example.rejected.trim(),
        kind,
        kind === 'violating'
          ? `The chosen answer applies ${cites} and cites ${one ? 'it' : 'them'}; the rejected answer endorses conduct ${cites} ${one ? 'does' : 'do'} not allow.`
          : `The chosen answer applies ${cites} and cites ${one ? 'it' : 'them'}; the rejected answer contradicts ${one ? 'it' : 'them'}.`,
      );
    }
    const ungrounded = ungroundedVariant(chosen);
    if (ungrounded !== null) {
      const citationOnly = ungrounded === withoutCitations(chosen);
      pair(
        ungrounded,
        'ungrounded',
        citationOnly
          ? `The rejected answer states the rule without citing it (${cites}).`
          : `The rejected answer gives the verdict without the ${one ? 'rule' : 'rules'} it rests on or ${one ? 'its citation' : 'their citations'} (${cites}).`,
      );
    }
    if (reversed !== null) {
      pair(
        reversed,
        rejectedKindOf(example, reversed),
        `The rejected answer quotes the same ${one ? 'rule' : 'rules'} and cites ${cites} too, but reverses the verdict ${one ? 'it gives' : 'they give'}.`,
      );
    }
    if (benign(example)) {
      pair(
        refusalFor(example.id),
        'refusing',
        `The question is benign and answered by ${cites}; the rejected answer refuses it needlessly.`,
      );
    }
  }
  return out;
}
