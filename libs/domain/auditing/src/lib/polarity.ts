/**
 * The yes/no polarity an answer opens with: "Yes." / "Yes, …" / "You may …" / "You can …" are `yes`;
 * "No." / "No, …" / "You must not …" / "You may not …" / "You cannot …" / "You should not …" / "Never …" are `no`.
 * "No employee shall …" is a rule, not an answer's "no", so a bare "No" needs punctuation after it.
 * Anything else (an explanation, "It depends") has no polarity: null.
 */
export type Polarity = 'yes' | 'no';

const YES = /^(?:yes\b|yeah\b|you (?:may|can|are (?:allowed|permitted|free) to)\b(?! not\b| never\b))/i;
const NO =
  /^(?:no\s*[.,;:!\u2013\u2014-]|no$|never\b|you (?:must|may|should|shall|can) (?:not|never)\b|you (?:cannot|can't|mustn't|shouldn't)\b|you are not (?:allowed|permitted)\b)/i;

export function polarityOf(text: string): Polarity | null {
  const opening = text
    .trim()
    .replace(/^["'\u201C\u2018*_]+/, '')
    .replace(/[\u2019]/g, "'");
  if (NO.test(opening)) return 'no';
  if (YES.test(opening)) return 'yes';
  return null;
}

/** True when both the reference and the answer open with a clear polarity and they differ. */
export function polarityFlipped(answer: string, reference: string): boolean {
  const expected = polarityOf(reference);
  const given = polarityOf(answer);
  return expected !== null && given !== null && expected !== given;
}
