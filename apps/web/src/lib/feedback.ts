import type { CompareView } from './compare';

/**
 * The feedback view's logic: which two answers are judged (from a comparison, in a random order
 * under the labels A and B), what the keyboard does, and the judgement as the gateway takes it
 * (POST /v1/contexts/{contextId}/feedback).
 */

export type AnswerSource = 'base' | 'aligned' | 'aligned_rag' | 'reference';

export const SOURCE_LABELS: Record<AnswerSource, string> = {
  base: 'Base',
  aligned: 'Aligned',
  aligned_rag: 'Aligned + RAG',
  reference: 'Reference answer',
};

/** The pairs an annotator may judge; `reference` only for a held-out item (which has one). */
export const PAIRS = [
  { id: 'base-aligned', label: 'Base vs aligned', sides: ['base', 'aligned'] },
  { id: 'base-aligned_rag', label: 'Base vs aligned + RAG', sides: ['base', 'aligned_rag'] },
  { id: 'aligned-aligned_rag', label: 'Aligned vs aligned + RAG', sides: ['aligned', 'aligned_rag'] },
  { id: 'reference-aligned', label: 'Reference vs aligned (held-out item)', sides: ['reference', 'aligned'] },
] as const satisfies readonly { id: string; label: string; sides: readonly [AnswerSource, AnswerSource] }[];
export type PairId = (typeof PAIRS)[number]['id'];

export interface ShownAnswer {
  source: AnswerSource;
  text: string;
}

/** The text of one source in a comparison (null when the comparison has none). */
export function answerOf(comparison: CompareView, source: AnswerSource): string | null {
  if (source === 'reference') return comparison.reference;
  return comparison.sides.find((s) => s.variant === source)?.answer ?? null;
}

/**
 * The two answers of a pair in a random order (A first): the annotator does not know which model
 * wrote which, so the order cannot sway the judgement. `random` is Math.random in the app.
 */
export function shuffledPair(comparison: CompareView, pair: PairId, random: () => number): [ShownAnswer, ShownAnswer] | string {
  const sides = PAIRS.find((p) => p.id === pair)?.sides;
  if (!sides) return `unknown pair ${pair}`;
  const shown = sides.map((source) => ({ source, text: answerOf(comparison, source) ?? '' }));
  const [first, second] = shown as [ShownAnswer, ShownAnswer];
  for (const s of shown) {
    if (answerOf(comparison, s.source) === null)
      return `this comparison has no ${SOURCE_LABELS[s.source].toLowerCase()}: choose another pair`;
  }
  return random() < 0.5 ? [first, second] : [second, first];
}

/** Why a pair cannot be judged (an empty answer, the same answer twice), or null. */
export function pairProblem(pair: readonly [ShownAnswer, ShownAnswer]): string | null {
  const [a, b] = pair;
  if (!a.text.trim() || !b.text.trim())
    return `answer ${!a.text.trim() ? 'A' : 'B'} is empty: there is nothing to judge; choose another pair or ask again`;
  if (a.text.trim() === b.text.trim()) return 'the two answers are the same: there is nothing to judge; choose another pair or ask again';
  return null;
}

export interface Judgement {
  /** 0 for A, 1 for B; null before a choice. */
  choice: 0 | 1 | null;
  /** The better answer as edited (null: not edited). */
  edited: string | null;
  explanation: string;
  values: string[];
}

export const EMPTY_JUDGEMENT: Judgement = { choice: null, edited: null, explanation: '', values: [] };

/** The body of POST …/feedback, as the gateway validates it. */
export interface FeedbackBody {
  prompt: string;
  systemPrompt: string | null;
  retrievedClauseIds: string[];
  clauseIds: string[];
  answers: [string, string];
  choice: 0 | 1;
  editedChosen?: string;
  explanation?: string;
  values: string[];
  origin: { runId?: string; datasetVersionId?: string; exampleId?: string };
}

export interface JudgedComparison {
  question: string;
  systemPrompt: string | null;
  pair: readonly [ShownAnswer, ShownAnswer];
  /** The clauses retrieved for the aligned + RAG answer (sent when one of the answers is it). */
  retrievedClauseIds: string[];
  heldOutItem: { id: string; clauseIds: string[] } | null;
  runId: string;
  datasetVersionId: string;
}

/** The judgement as a request body, or the problem that keeps it from being one (said to the annotator). */
export function feedbackBody(judged: JudgedComparison, judgement: Judgement): FeedbackBody | string {
  const problem = pairProblem(judged.pair);
  if (problem) return problem;
  if (judgement.choice === null) return 'choose the better answer first (1 for A, 2 for B)';
  const chosen = judged.pair[judgement.choice].text;
  const rejected = judged.pair[judgement.choice === 0 ? 1 : 0].text;
  const body: FeedbackBody = {
    prompt: judged.question,
    systemPrompt: judged.systemPrompt,
    retrievedClauseIds: judged.pair.some((a) => a.source === 'aligned_rag') ? judged.retrievedClauseIds : [],
    clauseIds: judged.heldOutItem?.clauseIds ?? [],
    answers: [judged.pair[0].text, judged.pair[1].text],
    choice: judgement.choice,
    values: judgement.values,
    origin: {
      runId: judged.runId,
      datasetVersionId: judged.datasetVersionId,
      ...(judged.heldOutItem ? { exampleId: judged.heldOutItem.id } : {}),
    },
  };
  if (judgement.edited !== null && judgement.edited.trim() !== chosen.trim()) {
    if (!judgement.edited.trim()) return 'the edited answer is empty: write the better answer, or press Escape and leave it as it was';
    if (judgement.edited.trim() === rejected.trim())
      return 'the edited answer is the rejected answer: the chosen answer must differ from it';
    body.editedChosen = judgement.edited;
  }
  if (judgement.explanation.trim()) body.explanation = judgement.explanation.trim();
  return body;
}

export type ShortcutAction = 'choose-a' | 'choose-b' | 'edit' | 'explain' | 'values' | 'submit' | 'next';

const KEYS: Record<string, ShortcutAction> = {
  '1': 'choose-a',
  '2': 'choose-b',
  e: 'edit',
  x: 'explain',
  v: 'values',
  Enter: 'submit',
  n: 'next',
};

/** What a key does in the feedback view: nothing while typing in a field (there Ctrl+Enter submits), nor with a modifier. */
export function shortcutOf(event: {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: { tagName?: string; type?: string } | null;
}): ShortcutAction | null {
  const tag = event.target?.tagName?.toUpperCase() ?? '';
  const typing = tag === 'TEXTAREA' || tag === 'SELECT' || (tag === 'INPUT' && !['checkbox', 'radio'].includes(event.target?.type ?? ''));
  if (typing) return event.key === 'Enter' && (event.ctrlKey || event.metaKey) ? 'submit' : null;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  // On a button or a link, Enter keeps its own meaning (press, follow); on a value's checkbox it submits.
  if (event.key === 'Enter' && (tag === 'BUTTON' || tag === 'A')) return null;
  return KEYS[event.key] ?? null;
}
