import { DocumentValidationError } from './errors';
import { Clause, ClauseKind, DocumentTree, MediaType, Section } from './model';
import { sha256Hex } from './sha256';
import { collapseWhitespace, normaliseClauseText, slugify, stripInlineMarkdown } from './text';
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
const HEADING_NUMBER = /^(?:(?:section|article|chapter|part)\s+)?(\d+(?:\.\d+)*)(?:[.)]|\s*[-\u2013\u2014:])?\s+(.+)$/i;
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
  question: string | null;
  answer: string | null;
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
    if (st.open.kind === 'qa' || st.open.kind === 'example' || st.open.kind === 'note') finishCallout(st.open);
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
      kind = draft.kind === 'example' ? 'x' : 'n';
    }
    const counts = draft.section ? draft.section.calloutCounts : topCallouts;
    counts[kind] += 1;
    draft.numbering = `${draft.section ? `${draft.section.numbering}.` : ''}${kind}${counts[kind]}`;
  };

  const openSection = (title: string, level: number, lineNo: number): void => {
    close();
    const m = HEADING_NUMBER.exec(title);
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
      question: null,
      answer: null,
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

    const lettered = LETTERED.exec(line);
    if (lettered) {
      const label = ((lettered[1] ?? lettered[2]) as string).toLowerCase();
      const parent: ClauseDraft | null = st.anchor;
      startClause(
        { numbering: under(parent ? parent.numbering : sectionBase(), label), numbered: true, kind: 'list-item', parent },
        lettered[3] as string,
        lineNo,
      );
      continue;
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
  const clauses: Clause[] = clauseDrafts.map((d) => {
    const normalised = normaliseClauseText(d.lines.join(' '));
    let numbering = d.numbering;
    for (let n = 2; usedNumbers.has(numbering); n++) numbering = `${d.numbering}_${n}`;
    usedNumbers.add(numbering);
    const id = `${documentId}:${numbering}:${sha256Hex(normalised).slice(0, CLAUSE_HASH_LENGTH)}`;
    ids.set(d, id);
    return {
      id,
      documentId,
      numbering,
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
