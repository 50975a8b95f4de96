import { ParagraphPathTracker, splitDesignatedLine, type Designator } from './designators';
import { DocumentValidationError } from './errors';
import { Clause, ClauseKind, DocumentTree, MediaType, Section } from './model';
import { sha256Hex } from './sha256';
import { capitalise, collapseWhitespace, normaliseClauseText, slugify, stripInlineMarkdown } from './text';
import { assertDocumentId, decodeDocument, DecodeOptions } from './validate';

export interface ParseOptions extends DecodeOptions {
  /** Becomes the first part of every clause id; letters, digits, '.', '_', '-' (no ':'). */
  documentId: string;
  /** 'text/markdown' or 'text/plain'; detected from the text (any '#' heading means Markdown) when omitted. */
  mediaType?: MediaType;
}

/** Hex digits of the content hash kept in a clause id. */
export const CLAUSE_HASH_LENGTH = 12;

const MD_HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const HEADING_NUMBER = /^(?:(?:section|article|chapter|part)\s+|§+\s*)?(\d+(?:\.\d+)*)(?:[.)]|\s*[-\u2013\u2014:])?\s+(.+)$/i;
/** "45 CFR Part 164", "5 U.S.C. 7323": a number followed by an abbreviation and another number is a citation, not a heading number. */
const CITATION_TITLE = /^[A-Z][A-Z.]+\s+(?:(?:part|title|§+)\s*)?\d/i;
/** "Example 1 to paragraph (b)(1):", "Note to paragraph (a).", "Example:" — a regulation's own worked examples and notes. */
const EXAMPLE_LEAD =
  /^\s*(?:\*\*|\*|_)?\s*(Example|Illustration|Note)(?:\s+(\d+|[A-Z]))?(?:\s+to\s+(?:paragraph|§+)\s*((?:\s*\(\*?[A-Za-z0-9]{1,5}\*?\))+|[\d.]+(?:\([^)]*\))*))?\s*(?:\*\*|\*|_)?\s*[:.\u2014-](?:\*\*|\*|_)?\s+(.*)$/i;
/** A paragraph wholly in square brackets: a source note ("[65 FR 82802, Dec. 28, 2000, as amended …]"). */
const BRACKETED = /^\s*\[[^\]]*\]\s*$/;
/** A line that ends a sentence or list entry, after which a "(b)" at line start opens a new paragraph. */
const ENDS_ENTRY = /(?:[.;:!?\u2014]|\b(?:and|or))\s*$/;
// "3.2.1 Text", "**3.2.1** Text", "3.2.1. Text", "1. Text", "1) Text"
const NUMBERED = /^\s*(?:\*\*|__)?(\d+(?:\.\d+)+\.?|\d+[.)])(?:\*\*|__)?\s+(.+)$/;
const LETTERED = /^\s*(?:[-*+]\s+)?(?:\(([a-z]{1,2}|\d{1,2})\)|([a-z])\))\s+(.+)$/i;
const BULLET = /^\s*[-*+]\s+(.+)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const FENCE = /^\s*(```|~~~)/;
const RULE = /^\s*([-*_])(?:\s*\1){2,}\s*$/;
const QA_LINE = /^\s*(?:\*\*|__)?(?:Q|Question)\s*:/i;
const SETEXT = /^\s*(=+|-{2,})\s*$/;

interface SectionDraft {
  numbering: string;
  explicitNumber: boolean;
  title: string;
  level: number;
  parent: SectionDraft | null;
  lineStart: number;
  proseCount: number;
  /** Designator paths per base ("3.1.4" for items of that paragraph, the section for its own paragraphs). */
  trackers: Map<string, ParagraphPathTracker>;
  calloutCounts: Record<'q' | 'x' | 'n', number>;
}

interface ClauseDraft {
  numbering: string;
  numbered: boolean;
  kind: ClauseKind;
  section: SectionDraft | null;
  parent: ClauseDraft | null;
  lines: string[];
  lineStart: number;
  lineEnd: number;
  /** Call-out blocks: whether they came from '>' lines (else from a bare "Q:" line). */
  quoted: boolean;
  /** A '>' block or a "Q: … A: …" block, whose kind and numbering are settled when it closes. */
  callout: boolean;
  question: string | null;
  answer: string | null;
  heading: string | null;
  /** "Example 2 to paragraph (b)": the example's number as the document gives it. */
  label: string | null;
}

/** Where a clause's numbering starts: the numbered paragraph its items belong to, else its section. */
function designatorNumbering(base: string, path: readonly string[]): string {
  return `${base}${path.map((p) => `(${p})`).join('')}`;
}

/** The id-safe form of a numbering: "164.502(a)(1)(ii)" → "164.502.a.1.ii" (ids allow letters, digits, '.', '_', '-'). */
export function numberingKey(numbering: string): string {
  return numbering
    .replace(/\(\*?([^)]*?)\*?\)/g, '.$1')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '');
}

/**
 * Parse a Markdown or plain-text policy document into sections and clauses with stable ids.
 *
 * - Sections come from Markdown headings ('#'…'######', setext underlines) or, in plain text,
 *   from short unpunctuated numbered lines ("3. Gifts") and ALL-CAPS lines.
 * - Clauses are numbered paragraphs ("3.2.1 …", "**3.2.1** …", "1. …"), list items ("(a) …",
 *   "- …", ordered items), unnumbered prose paragraphs, and call-out blocks ('>' quotes and
 *   "Q: … A: …" blocks), which are recognised as Q&A, example or note.
 * - A clause id is `<documentId>:<numbering path>:<12 hex of sha256(normalised text)>`, so parsing
 *   the same text again gives the same ids, and editing one clause changes only that clause's id.
 *
 * Throws `DocumentValidationError` for empty, binary, invalid UTF-8, oversized or unstructured input.
 */
export function parseDocument(input: string | Uint8Array, options: ParseOptions): DocumentTree {
  const { documentId } = options;
  assertDocumentId(documentId);
  const text = decodeDocument(input, options);
  const lines = text.split('\n');
  const mediaType: MediaType = options.mediaType ?? (lines.some((l) => MD_HEADING.test(l)) ? 'text/markdown' : 'text/plain');
  const markdown = mediaType === 'text/markdown';

  const sections: SectionDraft[] = [];
  const clauses: ClauseDraft[] = [];
  const usedSectionNumbers = new Set<string>();
  const itemCounts = new Map<string, number>();
  let stack: SectionDraft[] = [];
  // Parser state, mutated by the helpers below: the current section, the numbered paragraph that
  // list items attach to, and the block being accumulated.
  const st: { current: SectionDraft | null; anchor: ClauseDraft | null; open: ClauseDraft | null } = {
    current: null,
    anchor: null,
    open: null,
  };
  let topProse = 0;
  const topCallouts: Record<'q' | 'x' | 'n', number> = { q: 0, x: 0, n: 0 };

  const close = (): void => {
    if (st.open === null) return;
    if (st.open.callout) finishCallout(st.open);
    if (normaliseClauseText(st.open.lines.join(' ')).length > 0) clauses.push(st.open);
    st.open = null;
  };

  const finishCallout = (draft: ClauseDraft): void => {
    let body = stripInlineMarkdown(draft.lines.join(' '));
    body = body.replace(/^(?:Q\s*&\s*A|FAQ|Questions? and answers?)\s*[:.]?\s+/i, '');
    const qa = /^(?:Q|Question)\s*:\s*(.+?)\s+(?:A|Answer)\s*:\s*(.+)$/is.exec(body);
    let kind: 'q' | 'x' | 'n';
    if (qa) {
      draft.kind = 'qa';
      draft.question = collapseWhitespace(qa[1] as string);
      draft.answer = collapseWhitespace(qa[2] as string);
      draft.lines = [`Q: ${draft.question} A: ${draft.answer}`];
      kind = 'q';
    } else {
      draft.kind = /^(?:example|scenario|case study|illustration)\b/i.test(body) ? 'example' : 'note';
      draft.lines = [body];
      const lead = EXAMPLE_LEAD.exec(body);
      if (lead?.[3]) draft.parent = resolveTarget(lead[3], draft.section ? draft.section.numbering : null, byNumbering);
      kind = draft.kind === 'example' ? 'x' : 'n';
    }
    const counts = draft.section ? draft.section.calloutCounts : topCallouts;
    counts[kind] += 1;
    draft.numbering = `${draft.section ? `${draft.section.numbering}.` : ''}${kind}${counts[kind]}`;
  };

  const openSection = (title: string, level: number, lineNo: number): void => {
    close();
    const h = HEADING_NUMBER.exec(title);
    const m = h && !CITATION_TITLE.test(h[2] as string) ? h : null;
    while (stack.length > 0 && (stack[stack.length - 1] as SectionDraft).level >= level) stack.pop();
    const parent = stack[stack.length - 1] ?? null;
    let numbering: string;
    let cleanTitle: string;
    if (m) {
      numbering = m[1] as string;
      cleanTitle = stripInlineMarkdown(m[2] as string);
    } else {
      cleanTitle = stripInlineMarkdown(title);
      let numberedAncestor: SectionDraft | null = parent;
      while (numberedAncestor && !numberedAncestor.explicitNumber) numberedAncestor = numberedAncestor.parent;
      numbering = `${numberedAncestor ? `${numberedAncestor.numbering}.` : ''}${slugify(cleanTitle)}`;
    }
    let unique = numbering;
    for (let n = 2; usedSectionNumbers.has(unique); n++) unique = `${numbering}-${n}`;
    usedSectionNumbers.add(unique);
    const section: SectionDraft = {
      numbering: unique,
      explicitNumber: m !== null,
      title: cleanTitle,
      level,
      parent,
      lineStart: lineNo,
      proseCount: 0,
      trackers: new Map(),
      calloutCounts: { q: 0, x: 0, n: 0 },
    };
    sections.push(section);
    stack = [...stack, section];
    st.current = section;
    st.anchor = null;
  };

  const startClause = (
    fields: Pick<ClauseDraft, 'numbering' | 'numbered' | 'kind' | 'parent'>,
    firstLine: string,
    lineNo: number,
    quoted = false,
  ): ClauseDraft => {
    close();
    const draft: ClauseDraft = {
      ...fields,
      section: st.current,
      lines: [firstLine],
      lineStart: lineNo,
      lineEnd: lineNo,
      quoted,
      callout: quoted || fields.kind === 'qa',
      question: null,
      answer: null,
      heading: null,
      label: null,
    };
    st.open = draft;
    return draft;
  };

  const nextItem = (base: string): number => {
    const n = (itemCounts.get(base) ?? 0) + 1;
    itemCounts.set(base, n);
    return n;
  };
  const sectionBase = (): string | null => (st.current ? st.current.numbering : null);
  // Designated paragraphs by numbering, for nesting "(a)(1)" under "(a)" and for "Example 1 to paragraph (b)".
  const byNumbering = new Map<string, ClauseDraft>();
  let lastDesignated: ClauseDraft | null = null;
  const topTrackers = new Map<string, ParagraphPathTracker>();
  const designated = (chain: readonly Designator[], text: string, heading: string | null, lineNo: number): void => {
    const anchor = st.anchor;
    const base = anchor ? anchor.numbering : (sectionBase() ?? '');
    const trackers = st.current ? st.current.trackers : topTrackers;
    let tracker = trackers.get(base);
    if (!tracker) {
      tracker = new ParagraphPathTracker();
      trackers.set(base, tracker);
    }
    const path = tracker.next(chain);
    let parent: ClauseDraft | null = null;
    for (let k = path.length - 1; k >= 1 && parent === null; k--)
      parent = byNumbering.get(designatorNumbering(base, path.slice(0, k))) ?? null;
    parent ??= anchor;
    const numbering = designatorNumbering(base, path);
    const draft = startClause({ numbering, numbered: true, kind: parent || !st.current ? 'list-item' : 'paragraph', parent }, text, lineNo);
    draft.heading = heading;
    byNumbering.set(numbering, draft);
    lastDesignated = draft;
  };
  const exampleCounts = new Map<string, number>();
  const under = (base: string | null, leaf: string): string => (base ? `${base}.${leaf}` : leaf);

  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const lineNo = i + 1;

    if (FENCE.test(line)) {
      close();
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;

    if (line.trim() === '' || /^\s*<!--.*-->\s*$/.test(line)) {
      close();
      continue;
    }

    const heading = markdown ? MD_HEADING.exec(line) : null;
    if (heading) {
      openSection(heading[2] as string, (heading[1] as string).length, lineNo);
      continue;
    }
    const next = lines[i + 1];
    if (
      st.open === null &&
      next !== undefined &&
      SETEXT.test(next) &&
      !QUOTE.test(line) &&
      !BULLET.test(line) &&
      (next.trim().startsWith('=') || markdown)
    ) {
      openSection(line.trim(), next.trim().startsWith('=') ? 1 : 2, lineNo);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      close();
      continue;
    }
    if (!markdown) {
      const plainHeading = plainTextHeading(line, st.open === null);
      if (plainHeading) {
        openSection(plainHeading.title, plainHeading.level, lineNo);
        continue;
      }
    }

    const quote = QUOTE.exec(line);
    if (quote) {
      const o = st.open as ClauseDraft | null;
      if (o && o.quoted) {
        o.lines.push(quote[1] as string);
        o.lineEnd = lineNo;
      } else {
        startClause({ numbering: '', numbered: false, kind: 'note', parent: null }, quote[1] as string, lineNo, true);
      }
      continue;
    }
    if (st.open?.quoted) close();

    if (QA_LINE.test(line)) {
      startClause({ numbering: '', numbered: false, kind: 'qa', parent: null }, line, lineNo);
      continue;
    }

    const numbered = NUMBERED.exec(line);
    if (numbered && !(st.open && st.open.kind === 'qa')) {
      const raw = numbered[1] as string;
      const number = raw.replace(/[.)]$/, '');
      const absolute = number.includes('.') || !markdown;
      if (absolute) {
        st.anchor = startClause({ numbering: number, numbered: true, kind: 'paragraph', parent: null }, numbered[2] as string, lineNo);
      } else {
        const parent: ClauseDraft | null = st.anchor;
        startClause(
          { numbering: under(parent ? parent.numbering : sectionBase(), number), numbered: true, kind: 'list-item', parent },
          numbered[2] as string,
          lineNo,
        );
      }
      continue;
    }

    const previous = st.open ? (st.open.lines[st.open.lines.length - 1] ?? '') : '';
    const atEntryStart = st.open === null || st.open.kind === 'list-item' || ENDS_ENTRY.test(previous);
    const parts = atEntryStart ? splitDesignatedLine(line) : null;
    if (parts && parts.chain.length > 0 && parts.rest !== '') {
      designated(parts.chain, parts.rest, parts.headings.length > 0 ? parts.headings.join(' \u2014 ') : null, lineNo);
      continue;
    }
    const lettered = atEntryStart ? LETTERED.exec(line) : null;
    if (lettered) {
      designated([{ label: (lettered[1] ?? lettered[2]) as string, italic: false }], lettered[3] as string, null, lineNo);
      continue;
    }

    if (st.open === null) {
      const example = EXAMPLE_LEAD.exec(line);
      if (example && (example[2] !== undefined || example[3] !== undefined || /^\s*(?:\*\*|\*|_)/.test(line))) {
        const kind: ClauseKind = /^note$/i.test(example[1] as string) ? 'note' : 'example';
        const base = sectionBase();
        const target = example[3] ? resolveTarget(example[3], base, byNumbering) : null;
        const parent = target ?? lastDesignated ?? st.anchor;
        const key = `${parent ? parent.numbering : (base ?? '')}:${kind}`;
        const n = (exampleCounts.get(key) ?? 0) + 1;
        exampleCounts.set(key, n);
        const leaf = `${kind === 'example' ? 'x' : 'n'}${n}`;
        const draft = startClause(
          { numbering: parent ? `${parent.numbering}.${leaf}` : under(base, leaf), numbered: false, kind, parent },
          example[4] as string,
          lineNo,
        );
        draft.heading = stripInlineMarkdown(line.slice(0, line.length - (example[4] as string).length)).replace(/[\s:.\u2014-]+$/, '');
        draft.label = `${capitalise(example[1] as string)}${example[2] ? ` ${example[2]}` : ''}`;
        continue;
      }
      if (BRACKETED.test(line)) {
        const n = st.current ? ++st.current.proseCount : ++topProse;
        startClause({ numbering: under(sectionBase(), `p${n}`), numbered: false, kind: 'note', parent: null }, line, lineNo);
        continue;
      }
    }

    const bullet = BULLET.exec(line);
    if (bullet) {
      const parent: ClauseDraft | null = st.anchor;
      const base = parent ? parent.numbering : sectionBase();
      const key = base ?? '';
      startClause({ numbering: under(base, `i${nextItem(key)}`), numbered: false, kind: 'list-item', parent }, bullet[1] as string, lineNo);
      continue;
    }

    if (st.open !== null) {
      const o = st.open as ClauseDraft;
      o.lines.push(line);
      o.lineEnd = lineNo;
      continue;
    }

    // An unnumbered prose paragraph: a clause of its section, and the end of any list.
    st.anchor = null;
    const section = st.current as SectionDraft | null;
    const n = section ? ++section.proseCount : ++topProse;
    startClause({ numbering: under(sectionBase(), `p${n}`), numbered: false, kind: 'paragraph', parent: null }, line, lineNo);
  }
  close();

  if (sections.length === 0 && !clauses.some((c) => c.numbered)) {
    throw new DocumentValidationError(
      'no-structure',
      'no sections or numbered clauses found: the document needs headings or numbered paragraphs ("1.", "1.2", "(a)")',
    );
  }
  if (clauses.length === 0) {
    throw new DocumentValidationError('no-structure', 'headings found but no clause text under them');
  }

  return buildTree(documentId, mediaType, text, lines.length, sections, clauses);
}

/**
 * The clause "paragraph (b)(1)" names, in the section with reference `base`: the paragraph itself,
 * or the deepest framed paragraph above it; null when none is framed. "2635.202(b)" is read as given.
 */
function resolveTarget(target: string, base: string | null, byNumbering: ReadonlyMap<string, ClauseDraft>): ClauseDraft | null {
  const t = target.replace(/\*/g, '').replace(/\s+/g, '');
  const full = /^\d/.test(t) ? t : `${base ?? ''}${t}`;
  for (let ref = full; ref.length > 0;) {
    const found = byNumbering.get(ref);
    if (found) return found;
    const cut = ref.lastIndexOf('(');
    if (cut <= 0) break;
    ref = ref.slice(0, cut);
  }
  return null;
}

function plainTextHeading(line: string, atBlockStart: boolean): { title: string; level: number } | null {
  if (!atBlockStart) return null;
  const trimmed = line.trim();
  const words = trimmed.split(/\s+/).length;
  const m = /^(\d+(?:\.\d+)*)[.)]?\s+(.+)$/.exec(trimmed);
  if (m) {
    const title = m[2] as string;
    if (words <= 10 && /^[A-Z]/.test(title) && !/[.;:,?!]$/.test(title) && !/\b(must|shall|may|should)\b/i.test(title)) {
      return { title: trimmed, level: (m[1] as string).split('.').length };
    }
    return null;
  }
  if (words <= 12 && /[A-Z]{3}/.test(trimmed) && trimmed === trimmed.toUpperCase() && /^[A-Z]/.test(trimmed)) {
    return { title: trimmed, level: 1 };
  }
  return null;
}

/**
 * The section sign as the document writes it before a number: "§ 164.502" (spaced) or "§3.2.1".
 * A document that writes neither gets "§".
 */
export function citationSign(text: string): string {
  const spaced = (text.match(/§\s+\d/g) ?? []).length;
  const tight = (text.match(/§\d/g) ?? []).length;
  return spaced > tight ? '§ ' : '§';
}

function buildTree(
  documentId: string,
  mediaType: MediaType,
  text: string,
  lineCount: number,
  drafts: SectionDraft[],
  clauseDrafts: ClauseDraft[],
): DocumentTree {
  const sectionId = (s: SectionDraft): string => `${documentId}:${s.numbering}`;
  const headingPath = (s: SectionDraft | null): string[] => {
    const path: string[] = [];
    for (let x = s; x; x = x.parent) path.unshift(x.title);
    return path;
  };
  const sections: Section[] = drafts.map((s, i) => {
    let end = lineCount;
    for (let j = i + 1; j < drafts.length; j++) {
      const later = drafts[j] as SectionDraft;
      if (later.level <= s.level) {
        end = later.lineStart - 1;
        break;
      }
    }
    return {
      id: sectionId(s),
      documentId,
      numbering: s.numbering,
      title: s.title,
      level: s.level,
      parentId: s.parent ? sectionId(s.parent) : null,
      headingPath: headingPath(s),
      lineStart: s.lineStart,
      lineEnd: Math.max(end, s.lineStart),
    };
  });

  const ids = new Map<ClauseDraft, string>();
  const usedNumbers = new Set<string>();
  const sign = citationSign(text);
  const citations = new Map<ClauseDraft, string>();
  const citationOf = (d: ClauseDraft): string => {
    const known = citations.get(d);
    if (known !== undefined) return known;
    let c: string;
    if (d.numbered) c = `${sign}${d.numbering}`;
    else if (d.parent) c = `${citationOf(d.parent)}${d.label ? `, ${d.label}` : ''}`;
    else if (d.section?.explicitNumber) c = `${sign}${d.section.numbering}`;
    else if (d.section) c = `"${d.section.title}"`;
    else c = `${sign}${d.numbering}`;
    citations.set(d, c);
    return c;
  };
  const clauses: Clause[] = clauseDrafts.map((d) => {
    const normalised = normaliseClauseText(d.lines.join(' '));
    let numbering = d.numbering;
    for (let n = 2; usedNumbers.has(numbering); n++) numbering = `${d.numbering}_${n}`;
    usedNumbers.add(numbering);
    const id = `${documentId}:${numberingKey(numbering)}:${sha256Hex(normalised).slice(0, CLAUSE_HASH_LENGTH)}`;
    ids.set(d, id);
    return {
      id,
      documentId,
      numbering,
      citation: citationOf(d),
      heading: d.heading,
      kind: d.kind,
      numbered: d.numbered,
      sectionId: d.section ? sectionId(d.section) : null,
      parentId: null,
      headingPath: headingPath(d.section),
      text: normalised,
      question: d.question,
      answer: d.answer,
      lineStart: d.lineStart,
      lineEnd: d.lineEnd,
    };
  });
  clauseDrafts.forEach((d, i) => {
    if (d.parent) (clauses[i] as Clause).parentId = ids.get(d.parent) ?? null;
  });

  const first = drafts[0];
  return {
    documentId,
    mediaType,
    title: first && first.level === 1 ? first.title : null,
    sha256: sha256Hex(text),
    lineCount,
    sections,
    clauses,
  };
}
