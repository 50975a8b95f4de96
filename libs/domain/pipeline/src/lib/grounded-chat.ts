import { citedRefs, citeClause } from '@studio/framing';
import type { ChatMessage } from '@studio/ports';
import { ragSystemPrompt } from './audit';
import type { RetrievedClause } from './index-clauses';

/**
 * A chat with a deployed adapter, grounded the way the audit's aligned+RAG variant was measured:
 * the training system prompt plus the clauses retrieved for the question (`ragSystemPrompt`), so
 * the deployed model is prompted as it was audited. The answer carries its sources: each retrieved
 * clause as a citation (id, numbering, citation, text), and §refs inline in the text.
 */

/** A clause an answer was grounded on. */
export interface ChatCitation {
  /** 1-based position among the retrieved clauses (the order they were given to the model). */
  index: number;
  clauseId: string;
  numbering: string;
  /** How a reader cites it: "§3.2.1", "§164.502(a)". */
  citation: string;
  text: string;
  /** Retrieval score (reciprocal rank fusion of dense and sparse search). */
  score: number;
  /** Whether the model's answer itself refers to the clause (its §ref, or the §ref of a clause it belongs to or contains). */
  cited: boolean;
}

/** The text of the question to retrieve clauses for: the last user message, with the previous user turn when it is short. */
export function retrievalQuestion(messages: readonly ChatMessage[], maxChars = 4_000): string {
  const users = messages.filter((m) => m.role === 'user').map((m) => m.content.trim());
  const last = users.at(-1) ?? '';
  if (last.length === 0) throw new Error('the conversation has no user message to answer');
  // A follow-up ("and for suppliers?") is only understood with the turn before it.
  const previous = users.length > 1 && last.split(/\s+/).length < 6 ? users.at(-2) : undefined;
  const question = previous ? `${previous}\n${last}` : last;
  return question.length > maxChars ? question.slice(question.length - maxChars) : question;
}

/**
 * The messages sent to the model: the grounded system prompt first, then the caller's messages
 * (a caller's own system message follows ours: it may set a tone, not replace the grounding).
 */
export function groundedMessages(
  systemPrompt: string,
  clauses: readonly RetrievedClause[],
  messages: readonly ChatMessage[],
): ChatMessage[] {
  return [{ role: 'system', content: ragSystemPrompt(systemPrompt, clauses) }, ...messages];
}

/** Whether a cited numbering refers to a clause: the same clause, one it belongs to ("3.2" for "3.2.1"), or one inside it. */
function refersTo(ref: string, numbering: string): boolean {
  if (ref === numbering) return true;
  const inside = (outer: string, inner: string) => inner.startsWith(outer) && /^[.(]/.test(inner.slice(outer.length));
  return inside(ref, numbering) || inside(numbering, ref);
}

/** The citations of an answer: each retrieved clause, marked `cited` when the answer refers to it. */
export function citationsFor(clauses: readonly RetrievedClause[], answer: string): ChatCitation[] {
  const refs = citedRefs(answer);
  return clauses.map((c, i) => ({
    index: i + 1,
    clauseId: c.clauseId,
    numbering: c.numbering,
    citation: citeClause(c.numbering),
    text: c.text,
    score: c.score,
    cited: c.numbering.length > 0 && refs.some((ref) => refersTo(ref, c.numbering)),
  }));
}

/**
 * The §refs to append to an answer that cites none of the clauses it was grounded on: a "Sources:"
 * line naming them, so every grounded answer carries its references inline. Empty when the answer
 * already cites one of them, or when nothing was retrieved.
 */
export function sourcesSuffix(citations: readonly ChatCitation[]): string {
  if (citations.length === 0 || citations.some((c) => c.cited)) return '';
  const refs = [...new Set(citations.filter((c) => c.numbering.length > 0).map((c) => c.citation))];
  return refs.length === 0 ? '' : `\n\nSources: ${refs.join('; ')}.`;
}

/** The answer as the caller gets it: the model's text with its sources line when it cited none, and its citations. */
export function groundedAnswer(
  clauses: readonly RetrievedClause[],
  modelText: string,
): { text: string; suffix: string; citations: ChatCitation[] } {
  const citations = citationsFor(clauses, modelText);
  const suffix = sourcesSuffix(citations);
  return { text: `${modelText}${suffix}`, suffix, citations };
}
