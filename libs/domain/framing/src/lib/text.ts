/** Text helpers shared by the parser, the statement extractor and the generators. */

/** Remove inline Markdown (emphasis, code spans, links) and collapse whitespace. */
export function stripInlineMarkdown(text: string): string {
  return collapseWhitespace(
    text
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/(\*\*|__)(.+?)\1/g, '$2')
      .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, '$1$2'),
  );
}

export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The form of a clause's text that its id hashes: Unicode NFC, typographic quotes and dashes
 * folded to ASCII, inline Markdown removed, whitespace collapsed. Re-wrapping a paragraph or
 * adding emphasis therefore keeps its id; changing a word does not.
 */
export function normaliseClauseText(text: string): string {
  return stripInlineMarkdown(
    text
      .normalize('NFC')
      .replace(/[\u2018\u2019\u201A\u2032]/g, "'")
      .replace(/[\u201C\u201D\u201E\u2033]/g, '"')
      .replace(/[\u2013\u2014]/g, '-')
      .replace(/\u00A0/g, ' '),
  );
}

/** Comparison key for questions: NFKC, lower case, punctuation dropped, whitespace collapsed. */
export function normaliseQuestion(text: string): string {
  return collapseWhitespace(
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[\u2018\u2019]/g, "'")
      .replace(/[^\p{L}\p{N}$%§\s]/gu, ' '),
  );
}

/** Abbreviations after which a '.' never ends a sentence (lower case, without the last '.'). */
const ABBREVIATIONS = new Set([
  'e.g',
  'i.e',
  'viz',
  'cf',
  'vs',
  'v',
  'et al',
  'al',
  'approx',
  'incl',
  'esp',
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'jr',
  'sr',
  'gen',
  'gov',
  'sen',
  'rep',
  'hon',
  'no',
  'nos',
  'art',
  'arts',
  'sec',
  'secs',
  'para',
  'paras',
  'subpara',
  'p',
  'pp',
  'ch',
  'cl',
  'vol',
  'fig',
  'ex',
  'exh',
  'u.s',
  'u.k',
  'e.u',
  'inc',
  'ltd',
  'co',
  'corp',
  'dept',
  'assn',
  'bros',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
]);

/**
 * Abbreviations of legal citations ("5 U.S.C. 7323", "45 C.F.R. 164.502", "Pub. L. 104-191",
 * "42 U.S.C. § 1320d", "et seq."): no sentence ends after them when a number, '§' or '(' follows.
 */
const CITATION_ABBREVIATIONS = new Set([
  'u.s.c',
  'c.f.r',
  'cfr',
  'usc',
  'pub',
  'pub. l',
  'l',
  'fr',
  'stat',
  'seq',
  'et seq',
  'supp',
  'ann',
  'reg',
  'regs',
]);

/**
 * Split prose into sentences at '.', '!' or '?' followed by whitespace and an upper-case letter,
 * digit, quote, '(', '$' or '§' — legal-aware, so that none of these ends a sentence:
 * - an abbreviation: "e.g.", "i.e.", "No. 209", "Dec. 28", "Purl v. HHS", a single initial;
 * - a citation abbreviation before a number or '§': "5 U.S.C. 7323", "45 C.F.R. 164.502", "Pub. L. 104-191";
 * - a section sign or a paragraph reference cut by the period of a number: "§ 164.502(a)", "3.2.1";
 * - anything inside an open parenthesis: "(N.D. Tex., 2025)";
 * - an enumeration inside a sentence: "(1) gifts; (2) loans.", "paragraphs (c)(1) and (2)".
 * A sentence may still end at a reference: "… in § 164.524. The covered entity …".
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  const boundary = /([.!?])(["'\u201D\u2019)\]*_]*)\s+(?=["'\u201C\u2018([$§*_]?[A-Z0-9])/g;
  let start = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + 1 + (m[2]?.length ?? 0);
    if (m[1] === '.' && (m[2] ?? '') === '') {
      const before = text.slice(start, m.index);
      const after = text.slice(m.index + m[0].length);
      const lastWord = (/([A-Za-z.]+)$/.exec(before)?.[1] ?? '').toLowerCase();
      const lastTwo = (/([A-Za-z.]+\s+[A-Za-z.]+)$/.exec(before)?.[1] ?? '').toLowerCase();
      if (ABBREVIATIONS.has(lastWord) || /^[a-z]$/i.test(lastWord)) continue;
      if (lastWord === 'pub' && /^L\./.test(after)) continue;
      // Inside an open parenthesis: "(N.D. Tex., 2025)", "(see 5 U.S.C. App. 4)".
      if ((before.match(/\(/g) ?? []).length > (before.match(/\)/g) ?? []).length) continue;
      if ((CITATION_ABBREVIATIONS.has(lastWord) || CITATION_ABBREVIATIONS.has(lastTwo)) && /^[§(\d]/.test(after)) continue;
      // "U.S.C." and other dotted initialisms before a number.
      if (/^(?:[a-z]\.){2,}[a-z]$/.test(lastWord) && /^[§\d]/.test(after)) continue;
    }
    const sentence = text.slice(start, end).trim();
    if (sentence) sentences.push(sentence);
    start = m.index + m[0].length;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** Deterministic JSON: object keys sorted recursively, no whitespace. `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot canonicalise number ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** URL-safe slug for unnumbered headings: lower case, ASCII letters and digits, '-' between words. */
export function slugify(text: string, maxLength = 24): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= maxLength) return slug || 'section';
  // Cut at a word boundary where there is one.
  const cut = slug.slice(0, maxLength + 1);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash > 0 ? cut.slice(0, lastDash) : slug.slice(0, maxLength)) || 'section';
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function lowerFirst(text: string): string {
  // Keep acronyms and proper multi-capital words ("IT", "Ethics Office") as they are.
  if (/^[A-Z]{2,}\b/.test(text)) return text;
  return text.charAt(0).toLowerCase() + text.slice(1);
}
