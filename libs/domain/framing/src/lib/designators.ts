/**
 * Paragraph designators of legal documents: "(a)", "(1)", "(iv)", "(B)", italic "(*1*)" / "(*i*)",
 * run-in chains such as "(e)(1) *Standard: …* (i) …", and the CFR hierarchy they nest in.
 */

/** A paragraph designator as printed: "(a)", "(1)", "(iv)", "(B)", "(*2*)" (italic). */
export interface Designator {
  label: string;
  italic: boolean;
}

const DESIGNATOR = /^\s*\((\*?)([A-Za-z]{1,5}|\d{1,3})\*?\)/;
/** An italic run-in heading ("*Standard: Minimum necessary*—", "*Uses and disclosures.*"). */
const RUN_IN_HEADING = /^\s*\*[^*]+\*\s*(?:[\u2014\u2013-]\s*)?/;

/**
 * The designators a source line opens with, including run-in ones after an italic paragraph
 * heading: "(e)(1) *Standard: …* (i) A covered entity …" gives (e), (1), (i);
 * "(5) *Prohibited uses*—(i) …" gives (5), (i). Lines without one give [].
 */
export function designatorChain(line: string): Designator[] {
  const chain: Designator[] = [];
  let rest = line.replace(/^\s*(?:[-*+]\s+)?/, '');
  for (;;) {
    const m = DESIGNATOR.exec(rest);
    if (m) {
      chain.push({ label: m[2] as string, italic: m[1] === '*' });
      rest = rest.slice(m[0].length);
      continue;
    }
    if (chain.length === 0) return chain;
    const heading = RUN_IN_HEADING.exec(rest);
    if (!heading) return chain;
    const after = rest.slice(heading[0].length);
    if (!DESIGNATOR.test(after)) return chain;
    rest = after;
  }
}

const ROMAN = /^(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$/;

export function romanValue(s: string): number | null {
  const lower = s.toLowerCase();
  if (!ROMAN.test(lower)) return null;
  const values: Record<string, number> = { i: 1, v: 5, x: 10, l: 50, c: 100, d: 500, m: 1000 };
  let total = 0;
  for (let i = 0; i < lower.length; i++) {
    const v = values[lower[i] as string] as number;
    const next = values[lower[i + 1] as string] ?? 0;
    total += v < next ? -v : v;
  }
  return total;
}

function letterValue(s: string): number | null {
  return /^[a-z]$/i.test(s) ? s.toLowerCase().charCodeAt(0) - 96 : null;
}

const ROMAN_DIGITS: readonly [number, string][] = [
  [1000, 'm'],
  [900, 'cm'],
  [500, 'd'],
  [400, 'cd'],
  [100, 'c'],
  [90, 'xc'],
  [50, 'l'],
  [40, 'xl'],
  [10, 'x'],
  [9, 'ix'],
  [5, 'v'],
  [4, 'iv'],
  [1, 'i'],
];

/** The largest number written in (standard, lower-case) roman numerals: mmmcmxcix. */
export const MAX_ROMAN = 3999;

/**
 * `n` in lower-case roman numerals (4 → "iv"), the inverse of {@link romanValue}; null when `n`
 * has none (not an integer in 1..3999), so a list numbered from 0 or past 3999 falls back to digits.
 */
export function romanNumeral(n: number): string | null {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROMAN) return null;
  let out = '';
  let rest = n;
  for (const [value, digits] of ROMAN_DIGITS) {
    while (rest >= value) {
      out += digits;
      rest -= value;
    }
  }
  return out;
}

/**
 * How a list numbers its items past "z":
 * - `alphabetic`: like spreadsheet columns and CSS `lower-alpha` (HTML `<ol type="a">`): z, aa, ab, …, az, ba;
 * - `repeated`: like Word's `lowerLetter`: z, aa, bb, …, zz, aaa.
 */
export type LetterStyle = 'alphabetic' | 'repeated';

/** `n` as a lower-case letter label (3 → "c"); null when `n` is not a positive integer. */
export function letterLabel(n: number, style: LetterStyle): string | null {
  if (!Number.isInteger(n) || n < 1) return null;
  if (style === 'repeated') return String.fromCharCode(97 + ((n - 1) % 26)).repeat(Math.floor((n - 1) / 26) + 1);
  let out = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) out = String.fromCharCode(97 + ((k - 1) % 26)) + out;
  return out;
}

/** The number a letter label stands for in `style` (case-insensitive), the inverse of {@link letterLabel}; null when it is not one. */
export function letterLabelValue(label: string, style: LetterStyle): number | null {
  const lower = label.toLowerCase();
  if (!/^[a-z]+$/.test(lower)) return null;
  if (style === 'repeated') {
    if (!/^(.)\1*$/.test(lower)) return null;
    return (lower.length - 1) * 26 + (lower.charCodeAt(0) - 96);
  }
  let value = 0;
  for (const ch of lower) value = value * 26 + (ch.charCodeAt(0) - 96);
  return value;
}

/**
 * The CFR paragraph hierarchy: (a) → (1) → (i) → (A) → (*1*) → (*i*). Levels are 0-based.
 * Lower-case labels that are also roman numerals ("i", "v", "x") are read as the roman level when
 * they continue a roman sequence there (or "i" opens one under an arabic paragraph), and as the
 * letter level when they continue the letters; when both fit, the roman (deeper) reading wins.
 */
export function designatorLevel(d: Designator, path: readonly (string | undefined)[]): number {
  const { label, italic } = d;
  if (/^\d+$/.test(label)) return italic ? 4 : 1;
  if (/^[A-Z]+$/.test(label)) return 3;
  const roman = romanValue(label);
  const letter = letterValue(label);
  const romanLevel = italic ? 5 : 2;
  if (roman === null) return 0;
  if (letter === null) return romanLevel;
  // "(c)", "(d)", "(l)", "(m)" are letters; only "i", "v", "x" are read either way.
  if (!/^[ivx]$/.test(label)) return 0;
  const prevRoman = path[romanLevel] !== undefined ? romanValue(path[romanLevel] as string) : null;
  const romanFits = (roman === 1 && path[romanLevel - 1] !== undefined) || (prevRoman !== null && prevRoman === roman - 1);
  const prevLetter = path[0] !== undefined ? letterValue(path[0] as string) : null;
  const letterFits = !italic && ((letter === 1 && path[0] === undefined) || (prevLetter !== null && prevLetter === letter - 1));
  if (romanFits) return romanLevel;
  if (letterFits) return 0;
  return path[romanLevel - 1] !== undefined ? romanLevel : 0;
}

/**
 * Walk designator chains in document order and give each its full paragraph path:
 * [[a], [1], [i], [2]] → (a), (a)(1), (a)(1)(i), (a)(2). A chain with no designator keeps the
 * path of the paragraph before it only if `inherit` is true, else gets the empty path.
 */
export class ParagraphPathTracker {
  private path: (string | undefined)[] = [];

  reset(): void {
    this.path = [];
  }

  next(chain: readonly Designator[]): string[] {
    for (const d of chain) {
      const level = designatorLevel(d, this.path);
      const label = /^\d+$/.test(d.label) || /^[A-Z]+$/.test(d.label) ? d.label : d.label.toLowerCase();
      this.path = [...this.path.slice(0, level), label];
      // A skipped level (an "(i)" read under "(a)" with no "(1)") leaves holes: fill none.
    }
    return chain.length === 0 ? [] : this.path.filter((x): x is string => x !== undefined);
  }
}

/** An italic run-in paragraph heading at the start of a text: "*Standard.*", "*Standard: X*—", "*Uses:*". */
const LEADING_HEADING = /^\s*\*([A-Z][^*]*?)\*\s*([\u2014\u2013]|--?)?\s*/;

export interface DesignatedLine {
  chain: Designator[];
  /** The italic run-in headings, in order, without their '*' and trailing punctuation. */
  headings: string[];
  /** The text after the designators and headings. */
  rest: string;
}

/**
 * Split a paragraph's first line into its designator chain, its run-in headings and the text:
 * "(e)(1) *Standard: Disclosures.* (i) A covered entity may …" gives chain (e)(1)(i), heading
 * "Standard: Disclosures" and "A covered entity may …". An italic span counts as a heading only
 * where a reader would take it for one: it starts with a capital and ends with '.', ':' or a dash,
 * or is followed by another heading or designator.
 */
export function splitDesignatedLine(line: string): DesignatedLine {
  const chain = designatorChain(line);
  const headings: string[] = [];
  let rest = line.replace(/^\s*(?:[-*+]\s+)?/, '');
  if (chain.length === 0) return { chain, headings, rest };
  let taken = 0;
  for (;;) {
    const d = DESIGNATOR.exec(rest);
    if (d && taken < chain.length) {
      rest = rest.slice(d[0].length);
      taken += 1;
      continue;
    }
    const h = LEADING_HEADING.exec(rest);
    if (!h) break;
    const inner = (h[1] as string).trim();
    const after = rest.slice(h[0].length);
    const looksLikeHeading = /[.:]$/.test(inner) || h[2] !== undefined || /^\*[A-Z]/.test(after) || DESIGNATOR.test(after) || after === '';
    if (!looksLikeHeading) break;
    headings.push(inner.replace(/[.:\s]+$/, ''));
    rest = after;
  }
  return { chain, headings, rest: rest.trim() };
}
