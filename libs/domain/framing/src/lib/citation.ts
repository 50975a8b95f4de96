/**
 * How a clause is cited, in generated answers, retrieval context and audits: the reference a reader
 * of the document would write. One place, so every writer and reader of citations agrees.
 */

/** The citation of a clause with this numbering path: "3.2.1" → "§3.2.1". */
export function citeClause(numbering: string): string {
  return `§${numbering}`;
}

/** Clause references written in an answer ("§3.2.1", "§3.1.4(b)"), as numbering paths: the inverse of `citeClause`. */
export function citedRefs(text: string): string[] {
  const refs: string[] = [];
  for (const m of text.matchAll(/§\s*(\d+(?:\.\d+)*)(?:\(([a-z]{1,2})\)|\.([a-z]{1,2})\b)?/g)) {
    const letter = m[2] ?? m[3];
    refs.push(letter ? `${m[1] as string}.${letter}` : (m[1] as string));
  }
  return [...new Set(refs)];
}
