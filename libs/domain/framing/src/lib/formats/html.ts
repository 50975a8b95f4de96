import { letterLabel, romanNumeral } from '../designators';
import { DocumentValidationError } from '../errors';
import { type Block, blocksToMarkdown, squash } from './markdown';

type Htmlparser2 = typeof import('htmlparser2', { with: { 'resolution-mode': 'import' } });
// htmlparser2 is published as an ES module only; Node (22.12+) loads it with require.
const { Parser } = require('htmlparser2') as Htmlparser2;

/** Elements whose content is not document text. */
const SKIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'head',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'nav',
  'button',
  'select',
  'form',
]);
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'aside',
  'address',
  'figure',
  'figcaption',
  'pre',
  'dl',
  'dt',
  'dd',
  'caption',
  'center',
  'fieldset',
  'legend',
  'details',
  'summary',
  'body',
  'html',
]);

interface ListState {
  ordered: boolean;
  next: number;
  type: string;
}

/** The marker of an ordered list item as the document would number it ("3. ", "(c) ", "(iv) "). */
function orderedMarker(list: ListState): string {
  const n = list.next;
  const label =
    list.type === 'a' || list.type === 'A' ? letterLabel(n, 'alphabetic') : list.type === 'i' || list.type === 'I' ? romanNumeral(n) : null;
  // Digits for type="1" and for numbers a letter or roman label cannot write (0, negatives, > 3999).
  if (label === null) return `${n}. `;
  return `(${list.type === 'A' || list.type === 'I' ? label.toUpperCase() : label}) `;
}

/** What the HTML held, for the error of a page without text. */
export interface HtmlCensus {
  scripts: number;
  styles: number;
}

/**
 * Converts an HTML page to the Markdown the parser reads, with htmlparser2: `h1`–`h6` become '#'
 * headings; paragraphs and other blocks become paragraphs (a designator written as text, "(a)",
 * "3.2.1", stays as it is); `ol`/`ul` items become numbered ("1.", or "(a)"/"(i)" for
 * `type="a"`/`"i"`) and "- " items, unless the item already starts with its own designator;
 * `blockquote`s, and paragraphs that read as an example or a note, become quoted blocks; each
 * table row becomes one paragraph of its cells ("Header: cell; ..." under a header row, else
 * "cell | cell"). Scripts, styles, navigation, forms and hidden elements are left out.
 *
 * Throws DocumentValidationError 'no-text' when nothing readable is left.
 */
export function htmlToMarkdown(html: string, what = 'HTML page'): string {
  const blocks: Block[] = [];
  let text = '';
  let pendingMarker: string | null = null;
  let heading: number | null = null;
  let skipDepth = 0;
  let preDepth = 0;
  const quoteGroups: number[] = [];
  let groupCounter = 0;
  const lists: ListState[] = [];
  const census: HtmlCensus = { scripts: 0, styles: 0 };
  let title = '';
  let inTitle = false;
  let sawH1 = false;
  // Tables: the current row's cells, the header row's cells.
  let row: string[] | null = null;
  let rowIsHeader = true;
  let header: string[] | null = null;
  let dataRows = 0;
  let cell: string | null = null;
  const stack: string[] = [];

  const flush = (): void => {
    const body = preDepth > 0 ? text.replace(/[ \t]+/g, ' ') : text.replace(/[ \t\r\f\v\u00A0]+/g, ' ').replace(/ *\n */g, '\n');
    const content = body.trim();
    text = '';
    if (content === '') return;
    if (heading !== null) {
      blocks.push({ kind: 'heading', level: heading, text: content });
    } else if (quoteGroups.length > 0) {
      blocks.push({ kind: 'quote', group: quoteGroups[quoteGroups.length - 1] as number, text: content });
    } else if (pendingMarker !== null) {
      // An item that carries its own designator keeps it rather than gaining a second one.
      const own = /^(?:\((?:[a-z]{1,5}|[A-Z]{1,3}|\d{1,3})\)|\d+(?:\.\d+)+\.?)\s/.test(content);
      blocks.push(own ? { kind: 'paragraph', text: squash(content) } : { kind: 'item', marker: pendingMarker, text: content });
    } else {
      blocks.push({ kind: 'paragraph', text: content });
    }
    pendingMarker = null;
  };

  const hidden = (attrs: Record<string, string>): boolean =>
    'hidden' in attrs || attrs['aria-hidden'] === 'true' || /display\s*:\s*none|visibility\s*:\s*hidden/i.test(attrs['style'] ?? '');

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (!VOID.has(name)) stack.push(name);
        if (name === 'script') census.scripts++;
        if (name === 'style') census.styles++;
        if (name === 'title') inTitle = true;
        if (skipDepth > 0 || SKIPPED.has(name) || (hidden(attrs) && !VOID.has(name))) {
          if (!VOID.has(name)) skipDepth++;
          return;
        }
        if (cell !== null) {
          if (name === 'br' || BLOCK.has(name) || name === 'li') cell += ' ';
          return;
        }
        if (/^h[1-6]$/.test(name)) {
          flush();
          heading = Number(name.slice(1));
          if (heading === 1) sawH1 = true;
        } else if (name === 'br') {
          text += '\n';
        } else if (name === 'hr') {
          flush();
        } else if (name === 'blockquote') {
          flush();
          quoteGroups.push(groupCounter++);
        } else if (name === 'ol' || name === 'ul') {
          flush();
          const start = Number.parseInt(attrs['start'] ?? '1', 10);
          lists.push({ ordered: name === 'ol', next: Number.isFinite(start) ? start : 1, type: attrs['type'] ?? '1' });
        } else if (name === 'li') {
          flush();
          const list = lists[lists.length - 1];
          if (list?.ordered) {
            const value = Number.parseInt(attrs['value'] ?? '', 10);
            if (Number.isFinite(value)) list.next = value;
            pendingMarker = `${'  '.repeat(lists.length - 1)}${orderedMarker(list)}`;
            list.next++;
          } else {
            pendingMarker = `${'  '.repeat(Math.max(lists.length - 1, 0))}- `;
          }
        } else if (name === 'tr') {
          flush();
          row = [];
          rowIsHeader = true;
        } else if (name === 'td' || name === 'th') {
          if (row === null) row = [];
          if (name === 'td') rowIsHeader = false;
          cell = '';
        } else if (name === 'pre') {
          flush();
          preDepth++;
        } else if (BLOCK.has(name)) {
          // A paragraph inside a list item continues the item when the item has no text yet.
          if (!(pendingMarker !== null && text.trim() === '')) flush();
        }
      },
      ontext(data) {
        if (inTitle) title += data;
        if (skipDepth > 0) return;
        if (cell !== null) cell += data;
        else text += data;
      },
      onclosetag(name, implied) {
        void implied;
        if (VOID.has(name)) return;
        // Pop to the matching element (htmlparser2 reports implied closings too).
        const at = stack.lastIndexOf(name);
        if (at >= 0) stack.length = at;
        if (name === 'title') inTitle = false;
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        if (name === 'td' || name === 'th') {
          if (row !== null && cell !== null) row.push(squash(cell));
          cell = null;
        } else if (cell !== null) {
          return;
        } else if (/^h[1-6]$/.test(name)) {
          flush();
          heading = null;
        } else if (name === 'blockquote') {
          flush();
          quoteGroups.pop();
        } else if (name === 'ol' || name === 'ul') {
          flush();
          lists.pop();
        } else if (name === 'li') {
          flush();
        } else if (name === 'tr') {
          const cells = (row ?? []).filter((c) => c !== '');
          if (cells.length > 0) {
            if (rowIsHeader && header === null && dataRows === 0) {
              header = row ?? [];
            } else if (header !== null && header.length === (row ?? []).length) {
              dataRows++;
              const labelled = (row ?? [])
                .map((c, i) => (c === '' ? '' : header && header[i] ? `${header[i]}: ${c}` : c))
                .filter((c) => c !== '');
              blocks.push({ kind: 'paragraph', text: labelled.join('; ') });
            } else {
              dataRows++;
              blocks.push({ kind: 'paragraph', text: cells.join(' | ') });
            }
          }
          row = null;
        } else if (name === 'table') {
          // A table of one row of header cells still says something.
          const only = header !== null && dataRows === 0 ? header.filter((c) => c !== '') : [];
          if (only.length > 0) blocks.push({ kind: 'paragraph', text: only.join(' | ') });
          header = null;
          dataRows = 0;
        } else if (name === 'pre') {
          flush();
          preDepth--;
        } else if (BLOCK.has(name)) {
          flush();
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flush();

  if (!blocks.some((b) => b.text.trim() !== '')) {
    const held = [census.scripts > 0 ? `${census.scripts} script` : '', census.styles > 0 ? `${census.styles} style` : '']
      .filter((s) => s !== '')
      .join(' and ');
    throw new DocumentValidationError(
      'no-text',
      `${what} has no readable text${held ? `: only ${held} element${census.scripts + census.styles > 1 ? 's' : ''} and markup` : ''}`,
    );
  }
  if (!sawH1 && squash(title) !== '' && !blocks.some((b) => b.kind === 'heading')) {
    blocks.unshift({ kind: 'heading', level: 1, text: squash(title) });
  }
  return blocksToMarkdown(blocks);
}
