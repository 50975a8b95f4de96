import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DocumentValidationError } from '../errors';
import { MAX_PDF_PAGES, PDF_TIMEOUT_MS, PDF_WORKER_HEAP_MB } from './limits';
import { type Block, blocksToMarkdown, DESIGNATOR } from './markdown';

/** One text run of a page as PDF.js gives it: its text, baseline origin, width and font size. */
export interface PdfTextItem {
  s: string;
  x: number;
  y: number;
  w: number;
  size: number;
  eol: boolean;
  /** Set in a bold face. */
  b?: boolean;
}

export interface PdfPage {
  height: number;
  items: PdfTextItem[];
}

export interface PdfLimits {
  maxPages: number;
  heapMb: number;
  timeoutMs: number;
}

export const PDF_LIMITS: PdfLimits = { maxPages: MAX_PDF_PAGES, heapMb: PDF_WORKER_HEAP_MB, timeoutMs: PDF_TIMEOUT_MS };

type WorkerAnswer = { ok: true; pages: PdfPage[] } | { ok: false; name: string; message: string };

/**
 * The text items of every page of a PDF, read by PDF.js (unpdf) in a worker thread with a
 * bounded heap and a time limit. Throws DocumentValidationError: 'encrypted-pdf' (a password is
 * needed), 'malformed-pdf' (not a PDF PDF.js can read), 'too-large' (too many pages, too much
 * memory or time).
 */
export function readPdfPages(bytes: Uint8Array, limits: PdfLimits = PDF_LIMITS): Promise<PdfPage[]> {
  if (!/^\s*%PDF-/.test(Buffer.from(bytes.subarray(0, 1024)).toString('latin1'))) {
    return Promise.reject(new DocumentValidationError('malformed-pdf', 'not a PDF: the file does not start with the "%PDF-" header'));
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'pdf-worker.mjs'), {
      workerData: { data: bytes, maxPages: limits.maxPages },
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: Math.min(64, limits.heapMb) },
    });
    let settled = false;
    const settle = (error: Error | null, pages?: PdfPage[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (error) reject(error);
      else resolve(pages as PdfPage[]);
    };
    const timer = setTimeout(
      () =>
        settle(new DocumentValidationError('too-large', `reading the PDF took longer than ${limits.timeoutMs / 1000} s; it was stopped`)),
      limits.timeoutMs,
    );
    worker.on('message', (answer: WorkerAnswer) => {
      if (answer.ok) return settle(null, answer.pages);
      settle(pdfError(answer.name, answer.message, limits));
    });
    worker.on('error', (error: Error & { code?: string }) => {
      settle(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DocumentValidationError('too-large', `reading the PDF needed more than ${limits.heapMb} MB of memory; it was stopped`)
          : new DocumentValidationError('malformed-pdf', `not a readable PDF: ${error.message}`),
      );
    });
    worker.on('exit', (code) =>
      settle(new DocumentValidationError('malformed-pdf', `not a readable PDF: the reader stopped (exit code ${code})`)),
    );
  });
}

function pdfError(name: string, message: string, limits: PdfLimits): DocumentValidationError {
  if (name === 'PasswordException') {
    return new DocumentValidationError(
      'encrypted-pdf',
      'the PDF is encrypted: it needs a password to open; upload a copy without a password',
    );
  }
  if (name === 'TooManyPages') {
    return new DocumentValidationError('too-large', `the PDF has ${message} pages, over the limit of ${limits.maxPages}`);
  }
  return new DocumentValidationError('malformed-pdf', `not a readable PDF: ${message || name}`);
}

interface Line {
  page: number;
  pageHeight: number;
  x: number;
  y: number;
  size: number;
  text: string;
  /** Every run of the line is bold. */
  bold: boolean;
}

const round = (n: number, step: number): number => Math.round(n / step) * step;

/** How a section heading may begin: "§ 164.502", "Section 3", "Article IV", "Part 2", "3.2". */
const SECTION_LEAD = /^(?:§+\s*\d|(?:section|article|part|chapter|subpart|appendix)\s+[\dIVXLC]|\d+(?:\.\d+)*\.?\s)/i;

/** A line that ends a sentence or leads into a list: terminal punctuation, a dash, or "; and" / "; or" (also after a comma). */
const ENDS_SENTENCE = /(?:[.:;!?\u2014\u2013-]["\u201D\u2019)\]]?|[;,]\s*(?:and|or))$/;

/** Consecutive items on one baseline make a line. */
function groupByBaseline(items: PdfTextItem[]): PdfTextItem[][] {
  const groups: PdfTextItem[][] = [];
  for (const item of items) {
    const last = groups[groups.length - 1];
    const head = last?.[0];
    if (last && head && Math.abs(head.y - item.y) <= 0.4 * Math.min(head.size, item.size)) last.push(item);
    else groups.push([item]);
  }
  return groups;
}

/**
 * Groups a page's items into lines, left to right, spaced by the gaps between runs. Lines follow
 * the order the PDF draws them in, which is the reading order of most PDFs, columns included; a
 * page drawn in another order (many lines going up the page) is read top to bottom instead.
 */
function pageLines(page: PdfPage, index: number): Line[] {
  const items = page.items.filter((i) => i.s.trim() !== '' && Number.isFinite(i.x) && Number.isFinite(i.y) && i.size > 0);
  let groups = groupByBaseline(items);
  let upward = 0;
  for (let i = 1; i < groups.length; i++) {
    const a = (groups[i - 1] as PdfTextItem[])[0] as PdfTextItem;
    const b = (groups[i] as PdfTextItem[])[0] as PdfTextItem;
    if (b.y > a.y + a.size) upward++;
  }
  if (upward > Math.max(3, 0.2 * groups.length)) {
    groups = groupByBaseline([...items].sort((a, b) => b.y - a.y || a.x - b.x));
  }
  return groups.map((group) => {
    group.sort((a, b) => a.x - b.x);
    let text = '';
    let end = -Infinity;
    let size = 0;
    let longest = -1;
    for (const item of group) {
      const gap = item.x - end;
      if (text !== '') {
        if (gap > 2.5 * item.size) text = `${text.trimEnd()} | `;
        else if (gap > 0.15 * item.size && !/\s$/.test(text) && !/^\s/.test(item.s)) text += ' ';
      }
      text += item.s;
      end = Math.max(end, item.x + item.w);
      const length = item.s.trim().length;
      if (length > longest) {
        longest = length;
        size = item.size;
      }
    }
    const first = group[0] as PdfTextItem;
    const bold = group.every((i) => i.b === true);
    return {
      page: index,
      pageHeight: page.height,
      x: first.x,
      y: first.y,
      size: round(size, 0.5),
      text: text.replace(/\s+/g, ' ').trim(),
      bold,
    };
  });
}

/** Lines that repeat at the top or bottom of most pages (running heads, page numbers). */
function runningLines(lines: Line[], pageCount: number): Set<Line> {
  const margin = (l: Line): boolean => l.y > l.pageHeight * 0.9 || l.y < l.pageHeight * 0.1;
  const key = (l: Line): string => `${l.y > l.pageHeight / 2 ? 'top' : 'bottom'}:${l.text.replace(/\d+/g, '#').toLowerCase()}`;
  const pagesOf = new Map<string, Set<number>>();
  for (const l of lines) {
    if (!margin(l)) continue;
    const k = key(l);
    const set = pagesOf.get(k) ?? new Set<number>();
    set.add(l.page);
    pagesOf.set(k, set);
  }
  const dropped = new Set<Line>();
  for (const l of lines) {
    if (!margin(l)) continue;
    const bare = /^(?:page\s*)?[-\u2013]?\s*\d+\s*[-\u2013]?(?:\s*(?:of|\/)\s*\d+)?$/i.test(l.text);
    const repeated = pageCount >= 3 && (pagesOf.get(key(l))?.size ?? 0) >= Math.max(2, Math.ceil(pageCount / 2));
    if (bare || repeated) dropped.add(l);
  }
  return dropped;
}

/** The font size most of the text is set in. */
function bodySize(lines: Line[]): number {
  const weight = new Map<number, number>();
  for (const l of lines) weight.set(l.size, (weight.get(l.size) ?? 0) + l.text.length);
  let best = 0;
  let most = -1;
  for (const [size, w] of weight) {
    if (w > most || (w === most && size < best)) {
      best = size;
      most = w;
    }
  }
  return best;
}

/**
 * Rebuilds a document's structure from the positions and sizes of its text: lines from
 * baselines; running heads and page numbers dropped; lines set larger than the body text become
 * headings, one level per size (largest first); body lines join into paragraphs, broken at a
 * wider gap between lines, at a designator ("(a)", "(1)", "(iv)", "1.", "3.2.1", a bullet, an
 * example or note label) and at a heading; a word hyphenated at a line end is joined again.
 */
export function pdfPagesToMarkdown(pages: PdfPage[]): string {
  const all = pages.flatMap((p, i) => pageLines(p, i));
  const running = runningLines(all, pages.length);
  const lines = all.filter((l) => !running.has(l) && l.text !== '');
  const body = bodySize(lines);
  const larger = (l: Line): boolean => l.size >= body * 1.15 && l.text.length <= 200;
  // Where the body text is not itself bold, a short bold line set at body size is a heading too
  // ("§ 164.502 Uses and disclosures ...", "Gifts"): one level below the headings set larger.
  const characters = lines.reduce((n, l) => n + l.text.length, 0);
  const boldShare = lines.filter((l) => l.bold).reduce((n, l) => n + l.text.length, 0) / Math.max(characters, 1);
  const boldHeading = (l: Line): boolean =>
    boldShare < 0.3 &&
    l.bold &&
    Math.abs(l.size - body) < body * 0.15 &&
    l.text.length <= 160 &&
    !/[,;]$/.test(l.text) &&
    (!/[.:]$/.test(l.text) || SECTION_LEAD.test(l.text));
  const isHeading = (l: Line): boolean => larger(l) || boldHeading(l);
  const headingSizes = [...new Set(lines.filter(larger).map((l) => l.size))].sort((a, b) => b - a);
  const levelOf = (l: Line): number => Math.min(larger(l) ? headingSizes.indexOf(l.size) + 1 : headingSizes.length + 1, 6);

  // The usual distance between the baselines of two lines of one paragraph.
  const steps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1] as Line;
    const b = lines[i] as Line;
    if (a.page === b.page && !isHeading(a) && !isHeading(b) && a.y > b.y) steps.push(a.y - b.y);
  }
  steps.sort((a, b) => a - b);
  const lineStep = steps.length > 0 ? (steps[Math.floor(steps.length / 4)] as number) : body * 1.2;

  const blocks: Block[] = [];
  let paragraph: string | null = null;
  let previous: Line | null = null;
  let headingOpen: { level: number; size: number; page: number; y: number } | null = null;
  const end = (): void => {
    if (paragraph !== null) blocks.push({ kind: 'paragraph', text: paragraph });
    paragraph = null;
  };
  for (const line of lines) {
    if (isHeading(line)) {
      end();
      const last = blocks[blocks.length - 1];
      // A heading set on two lines: same size, the next baseline just below.
      if (
        headingOpen &&
        last?.kind === 'heading' &&
        headingOpen.size === line.size &&
        headingOpen.level === levelOf(line) &&
        headingOpen.page === line.page &&
        headingOpen.y - line.y <= line.size * 1.6
      ) {
        last.text = `${last.text} ${line.text}`;
      } else {
        blocks.push({ kind: 'heading', level: levelOf(line), text: line.text });
      }
      headingOpen = { level: levelOf(line), size: line.size, page: line.page, y: line.y };
      previous = line;
      continue;
    }
    headingOpen = null;
    // A designator starts a paragraph after a line that ends one ("…;", "…:", "…; and"); after a
    // line cut mid-sentence it is a wrapped reference ("… under paragraph\n(b)(2) of this section").
    const startsBlock = DESIGNATOR.test(line.text) || /^(?:Example|Note|Illustration)s?\b/.test(line.text);
    let breaks = paragraph === null;
    if (!breaks && previous) {
      const ended = ENDS_SENTENCE.test(previous.text);
      // On to the next column (up the page) or the next page: a new paragraph only after a full stop.
      if (previous.page !== line.page || line.y > previous.y) breaks = ended;
      else breaks = previous.y - line.y > lineStep * 1.45 || (startsBlock && ended);
    }
    if (breaks) {
      end();
      paragraph = line.text;
    } else if (paragraph !== null && /[A-Za-z]-$/.test(paragraph) && /^[a-z]/.test(line.text)) {
      paragraph = paragraph.slice(0, -1) + line.text;
    } else {
      paragraph = `${paragraph ?? ''} ${line.text}`;
    }
    previous = line;
  }
  end();
  return blocksToMarkdown(blocks);
}

/**
 * Converts a PDF to Markdown: its text items (readPdfPages), then its lines, headings and
 * paragraphs (pdfPagesToMarkdown). Throws DocumentValidationError 'no-text-layer' when no page
 * carries text (a scan without OCR), besides readPdfPages's errors.
 */
export async function pdfToMarkdown(bytes: Uint8Array, limits: PdfLimits = PDF_LIMITS): Promise<{ markdown: string; pages: number }> {
  const pages = await readPdfPages(bytes, limits);
  const characters = pages.reduce((n, p) => n + p.items.reduce((m, i) => m + i.s.trim().length, 0), 0);
  if (characters === 0) {
    throw new DocumentValidationError(
      'no-text-layer',
      `the PDF has no text layer: none of its ${pages.length} page${pages.length === 1 ? '' : 's'} carries text (a scanned document?); run OCR on it first or upload the text`,
    );
  }
  return { markdown: pdfPagesToMarkdown(pages), pages: pages.length };
}
