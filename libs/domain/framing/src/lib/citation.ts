import type { Clause } from './model';

/**
 * How a clause is cited, in generated answers, retrieval context and audits: the reference a reader
 * of the document would write. One place, so every writer and reader of citations agrees.
 *
 * A clause's numbering is what a reader writes after the section sign: "3.2.1", "3.1.4(a)",
 * "164.502(a)(1)(ii)". The parser stores each clause's citation (`Clause.citation`), spacing the
 * section sign as the document itself does ("§ 164.502(a)" in the CFR, "§3.2.1" in a policy that
 * writes it so); `citedRefs` reads any of these forms back to numberings.
 */

/**
 * The citation of a clause: its stored `citation` ("§ 164.502(a)(1)(ii)", "§3.2.1"). Given only a
 * numbering (a stored clause record without a citation), "§" and the numbering: "3.2.1" → "§3.2.1".
 */
export function citeClause(clause: string | Pick<Clause, 'numbering' | 'citation'>): string {
  return typeof clause === 'string' ? `§${clause}` : clause.citation;
}

export interface CitedRefsOptions {
  /**
   * The numbering of the section the text belongs to ("164.502"), so that "paragraph (a)(1) of this
   * section" reads as "164.502(a)(1)"; without it such references are skipped.
   */
  section?: string;
}

const NUMBER = String.raw`\d+(?:\.\d+)*`;
const DESIGNATORS = String.raw`(?:\(\*?[A-Za-z0-9]{1,5}\*?\))*`;
/** One reference after a section sign: "164.502(a)(1)", "3.2.1", the legacy "3.1.4.a". */
const REF = new RegExp(String.raw`^(${NUMBER})(${DESIGNATORS})(?:\.([a-z]{1,2})\b)?`);
/** A following reference in a "§§ 164.502(b), 164.514(d), and 164.530(c)" list. */
const LIST_NEXT = /^\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?=\d)/;
/** A sibling designator after a reference: "§ 164.514(e), (f), or (g)". */
const SIBLING = /^\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)\((\*?[A-Za-z0-9]{1,5}\*?)\)/;

function designatorPath(text: string): string[] {
  return [...text.matchAll(/\(\*?([A-Za-z0-9]{1,5})\*?\)/g)].map((m) => m[1] as string);
}

function format(number: string, path: readonly string[]): string {
  return `${number}${path.map((p) => `(${p})`).join('')}`;
}

/**
 * Clause references written in a text, as numberings (the inverse of `citeClause`): "§3.2.1",
 * "§3.1.4(b)" and the older "§3.1.4.b" (→ "3.1.4(b)"), "§ 164.502(a)(1)(ii)", italic designators
 * "(*1*)" written plainly, lists "§§ 164.502(b), 164.514(d), and 164.530(c)", sibling designators
 * "§ 164.514(e), (f), or (g)", and, given the section, "paragraph (a)(1)(i) of this section" and
 * "paragraphs (g)(3) and (g)(5) of this section". Each reference once, in order of first mention.
 */
export function citedRefs(text: string, options: CitedRefsOptions = {}): string[] {
  const refs: string[] = [];
  for (const m of text.matchAll(/(§§?)\s*/g)) {
    let rest = text.slice((m.index as number) + m[0].length);
    const list = m[1] === '§§';
    for (;;) {
      const r = REF.exec(rest);
      if (!r) break;
      const path = designatorPath(r[2] ?? '');
      if (r[3]) path.push(r[3]);
      refs.push(format(r[1] as string, path));
      rest = rest.slice(r[0].length);
      for (let s = SIBLING.exec(rest); s && path.length > 0; s = SIBLING.exec(rest)) {
        const sibling = [...path.slice(0, -1), (s[1] as string).replace(/\*/g, '')];
        refs.push(format(r[1] as string, sibling));
        rest = rest.slice(s[0].length);
      }
      const next = list ? LIST_NEXT.exec(rest) : null;
      if (!next) break;
      rest = rest.slice(next[0].length);
    }
  }
  if (options.section) {
    const paragraphs =
      /\bparagraphs?\s+((?:\(\*?[A-Za-z0-9]{1,5}\*?\))+(?:(?:,\s*|\s+)(?:and\s+|or\s+)?(?:\(\*?[A-Za-z0-9]{1,5}\*?\))+)*)\s+of\s+this\s+section\b/gi;
    for (const m of text.matchAll(paragraphs)) {
      let previous: string[] = [];
      for (const group of (m[1] as string).split(/,\s*|\s+(?:and|or)\s+/)) {
        const path = designatorPath(group);
        if (path.length === 0) continue;
        // "(c)(1) and (2)": a short second reference continues the first one's parent.
        const full = path.length === 1 && previous.length > 1 ? [...previous.slice(0, -1), ...path] : path;
        refs.push(format(options.section, full));
        previous = full;
      }
    }
  }
  return [...new Set(refs)];
}
