/** A block of a converted document, before it is written as Markdown. */
export type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  /** A list item whose marker ("- ", "1. ", "(a) ") the converter chose. */
  | { kind: 'item'; marker: string; text: string }
  /** A paragraph of a quoted block; consecutive paragraphs of the same `group` stay one block. */
  | { kind: 'quote'; group: number; text: string };

/**
 * A paragraph that is one of the document's worked examples or notes: "Example:", "Note.",
 * "Example 2 to paragraph (b):", "Notes —". Such paragraphs are written as quoted blocks, the form
 * in which the Markdown parser recognises examples and notes.
 */
export const CALLOUT = /^(?:Example|Note|Illustration)s?(?:\s+\d+[A-Za-z]?)?(?:\s+to\s+[^:.\n]{1,80})?\s*[:.\u2014\u2013-]/;

/**
 * A line that begins a new paragraph by its designator: "(a)", "(1)", "(iv)", "(A)", "a)", "1.",
 * "1)", "3.2.1", a bullet, or an example/note label.
 */
export const DESIGNATOR =
  /^(?:\((?:[a-z]{1,5}|[A-Z]{1,3}|\d{1,3})\)|[a-z]\)|\d{1,3}[.)](?=\s)|\d+(?:\.\d+)+\.?(?=\s)|§+\s*\d|[\u2022\u25AA\u25E6\u25CF\u2023\u2219\u00B7\u2013\u2014*-](?=\s))/;

const BULLET = /^[\u2022\u25AA\u25E6\u25CF\u2023\u2219\u00B7\u2013\u2014*]\s+/;

/** Collapses whitespace (keeping no line breaks) and trims. */
export function squash(text: string): string {
  return text.replace(/[\s\u00A0]+/g, ' ').trim();
}

/** Escapes what would make a paragraph's first characters Markdown structure it is not. */
function escapeLead(text: string): string {
  return text.replace(/^(#{1,6}\s|>|```|~~~|={2,}|-{3,}\s*$)/, '\\$1');
}

/**
 * Writes blocks as the Markdown the parser reads: '#' headings, paragraphs (designators kept as
 * their text), list items, and quoted blocks for examples and notes ("> Example ..."), one blank
 * line between blocks. A paragraph that starts with a bullet character becomes a "- " item; one
 * that reads as an example or a note becomes a quoted block.
 */
export function blocksToMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  let previousGroup: number | null = null;
  let nextGroup = -1;
  for (const block of blocks) {
    const text = block.kind === 'heading' ? squash(block.text) : block.text.trim();
    if (text === '') continue;
    let group: number | null = null;
    let written: string;
    if (block.kind === 'heading') {
      written = `${'#'.repeat(Math.min(Math.max(block.level, 1), 6))} ${text}`;
    } else if (block.kind === 'quote') {
      group = block.group;
      written = quoteLines(text);
    } else if (block.kind === 'item') {
      written = `${block.marker}${oneLine(text)}`;
    } else if (BULLET.test(text)) {
      written = `- ${oneLine(text.replace(BULLET, ''))}`;
    } else if (CALLOUT.test(text)) {
      group = nextGroup--;
      written = quoteLines(text);
    } else {
      written = text
        .split('\n')
        .map((l) => escapeLead(l.trim()))
        .filter((l) => l !== '')
        .join('\n');
    }
    if (out.length > 0) out.push(group !== null && group === previousGroup ? '>' : '');
    out.push(written);
    previousGroup = group;
  }
  return out.join('\n') + '\n';
}

function oneLine(text: string): string {
  return squash(text);
}

function quoteLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => `> ${l}`)
    .join('\n');
}
