// Framing throughput: how fast, and in how much memory, the framer frames a long document.
//   npm run bench:framing-throughput [-- <corpus folder>]
// The document is the HIPAA Privacy Rule corpus (45cfr164-subpart-e.md, in bench/corpora/
// hipaa-privacy) followed by
// the example context's policy (examples/northwind-conduct/policy.md), repeated until it holds 300
// pages; the same for 30 pages. A page is 3,000 characters. Each is framed as the product frames
// it in memory (frameDocument: parse + normative statements + template generation + split +
// dataset version; no teacher model), after a warm-up run, three times each (the median run is
// printed); the 30-page document first, so that the peak memory printed after it is its own. Prints pages per second, the time of each stage,
// the peak resident set size (high-water mark) and the linearity (seconds per page at 300 pages /
// seconds per page at 30). Targets: under 10 s and under 500 MB for 300 pages. Then the PDF path
// for the same text: the document set as a PDF (pdf-lib, 10 pt body, larger headings), converted
// (convertDocument: PDF.js in its worker, lines, headings, paragraphs) and framed; the conversion
// is timed apart (it is not part of the target). A measurement: it exits 0 whatever the figures.
import '../event-bus/register-paths';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ContextValues, convertDocument, extractStatements, generateExamples, parseDocument } from '@studio/framing';
import { frameDocument } from '@studio/pipeline';
import { PDFDocument, StandardFonts } from 'pdf-lib';

const PAGE_CHARACTERS = 3000;
const TARGET_SECONDS = 10;
const TARGET_MB = 500;

const root = join(__dirname, '..', '..');
/** The development corpus kept in the repository (a copy of the public-domain HIPAA Privacy Rule corpus). */
const CORPUS = join(root, 'bench', 'corpora', 'hipaa-privacy');
const folder = resolve(process.argv[2] ?? CORPUS);
const corpusPath = join(folder, '45cfr164-subpart-e.md');
const example = join(root, 'examples', 'northwind-conduct');
for (const path of [corpusPath, join(example, 'policy.md'), join(example, 'values.json')]) {
  if (!existsSync(path)) {
    console.error(`missing ${path} (give the corpus folder as the first argument)`);
    process.exit(2);
  }
}
const sources = [readFileSync(corpusPath, 'utf8'), readFileSync(join(example, 'policy.md'), 'utf8')];
const values = ContextValues.parse(JSON.parse(readFileSync(join(example, 'values.json'), 'utf8')));

/** The sources one after the other, again and again, cut at a paragraph once `pages` pages are reached. */
function documentOf(pages: number): string {
  const want = pages * PAGE_CHARACTERS;
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < want; i++) {
    for (const paragraph of (sources[i % sources.length] as string).split(/\n\s*\n/)) {
      parts.push(paragraph);
      length += paragraph.length + 2;
      if (length >= want) break;
    }
  }
  return parts.join('\n\n') + '\n';
}

const mb = (bytes: number): number => bytes / (1024 * 1024);
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

interface Run {
  pages: number;
  characters: number;
  seconds: number;
  stages: { parse: number; statements: number; generation: number };
  clauses: number;
  statements: number;
  examples: number;
  peakMb: number;
}

function frame(pages: number): Run {
  const text = documentOf(pages);
  const content = new TextEncoder().encode(text);
  const maxDocumentBytes = content.length + 1;
  const began = performance.now();
  const framed = frameDocument({
    contextId: 'throughput',
    documentId: `doc-${pages}`,
    mediaType: 'text/markdown',
    content,
    values,
    seedsJsonl: null,
    seed: 7,
    heldOutRatio: 0.2,
    maxDocumentBytes,
  });
  const seconds = (performance.now() - began) / 1000;
  // The stages one by one, timed apart (the same work frameDocument does, less split and versioning).
  let t = performance.now();
  const tree = parseDocument(content, { documentId: `doc-${pages}`, mediaType: 'text/markdown', maxBytes: maxDocumentBytes });
  const parse = (performance.now() - t) / 1000;
  t = performance.now();
  const statements = extractStatements(tree);
  const statementsSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  generateExamples(tree, statements, { seed: 7, values });
  const generation = (performance.now() - t) / 1000;
  return {
    pages,
    characters: text.length,
    seconds,
    stages: { parse, statements: statementsSeconds, generation },
    clauses: framed.tree.clauses.length,
    statements: framed.statements.length,
    examples: framed.version.train.length + framed.version.heldOut.length,
    peakMb: peakRssMb(),
  };
}

console.log(`Framing throughput (frameDocument: parse + statements + generation + split + version; no teacher model)`);
console.log(`A page is ${PAGE_CHARACTERS.toLocaleString('en')} characters of the document's text.`);
console.log(`Document: ${corpusPath} then examples/northwind-conduct/policy.md, repeated to the page count.`);
console.log(
  `Node ${process.version}${process.execArgv.filter((a) => a.startsWith('--max')).length ? ` (${process.execArgv.filter((a) => a.startsWith('--max')).join(' ')}: a young generation of 16 MB keeps the peak down)` : ''}; resident set before: ${mb(process.memoryUsage().rss).toFixed(0)} MB\n`,
);

const warm = frame(5);
console.log(`warm-up: ${warm.pages} pages in ${warm.seconds.toFixed(2)} s`);
/** The run of median time of `times` runs (the machine may be shared: one run alone is noisy). */
function median(pages: number, times = 3): Run {
  const all = Array.from({ length: times }, () => frame(pages)).sort((a, b) => a.seconds - b.seconds);
  const mid = all[Math.floor(times / 2)] as Run;
  return { ...mid, peakMb: peakRssMb() };
}
const runs = [median(30), median(300)];
for (const r of runs) {
  console.log(
    `${String(r.pages).padStart(3)} pages (${r.characters.toLocaleString('en')} characters): ${r.seconds.toFixed(2)} s, ` +
      `${(r.pages / r.seconds).toFixed(1)} pages/s, peak RSS ${r.peakMb.toFixed(0)} MB; ` +
      `${r.clauses} clauses, ${r.statements} statements, ${r.examples} examples`,
  );
  console.log(
    `      stages: parse ${r.stages.parse.toFixed(2)} s, statements ${r.stages.statements.toFixed(2)} s, generation ${r.stages.generation.toFixed(2)} s`,
  );
}
const [small, large] = runs as [Run, Run];
const linearity = large.seconds / large.pages / (small.seconds / small.pages);
console.log(`(each: the median of 3 runs)`);
console.log(`\nlinearity: ${linearity.toFixed(2)} (seconds per page at 300 pages / at 30 pages; 1.00 is linear)`);
const meets = large.seconds < TARGET_SECONDS && large.peakMb < TARGET_MB;
console.log(
  `target for 300 pages: under ${TARGET_SECONDS} s and under ${TARGET_MB} MB: ${meets ? 'met' : 'MISSED'} ` +
    `(${large.seconds.toFixed(2)} s, ${large.peakMb.toFixed(0)} MB peak)`,
);

/** The characters the standard PDF fonts can set (WinAnsi: ASCII, §, dashes, curly quotes); others become spaces. */
const winAnsi = (text: string): string => text.replace(/[^\x20-\x7e\n\u00A7\u2013\u2014\u2018\u2019\u201C\u201D]/g, ' ');

/** The clauses of a framed text as "numbering | text", for comparing two framings of one document. */
const clauseKeys = (content: string | Uint8Array): string[] =>
  parseDocument(content, { documentId: 'd', mediaType: 'text/markdown', maxBytes: 64 * 1024 * 1024 }).clauses.map(
    (c) => `${c.numbering} | ${winAnsi(c.text).replace(/\s+/g, ' ').trim()}`,
  );

/** The text as a PDF: Letter pages, 10 pt Helvetica wrapped to the measure, headings larger. */
async function pdfOf(text: string): Promise<{ bytes: Uint8Array; pages: number }> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const [width, height, margin] = [612, 792, 54];
  let page = pdf.addPage([width, height]);
  let y = height - margin;
  for (const block of text.split(/\n\s*\n/)) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(block.trim());
    const size = heading ? ([18, 15, 13, 12, 11.5, 11][(heading[1] as string).length - 1] as number) : 10;
    const words = winAnsi(heading ? (heading[2] as string) : block.replace(/^>\s?/gm, ''))
      .split(/\s+/)
      .filter(Boolean);
    const lines: string[] = [];
    let line = '';
    for (const word of words) {
      const next = line ? `${line} ${word}` : word;
      if (line && font.widthOfTextAtSize(next, size) > width - 2 * margin) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    if (line) lines.push(line);
    for (const l of lines) {
      if (y < margin) {
        page = pdf.addPage([width, height]);
        y = height - margin;
      }
      page.drawText(l, { x: margin, y, size, font });
      y -= size * 1.35;
    }
    y -= 7;
  }
  return { bytes: await pdf.save(), pages: pdf.getPageCount() };
}

void (async () => {
  console.log('\nPDF path (the same text set as a PDF; the PDF is made before timing):');
  for (const pages of [30, 300]) {
    const { bytes, pages: pdfPages } = await pdfOf(documentOf(pages));
    const began = performance.now();
    const converted = await convertDocument(bytes, 'application/pdf', { maxBytes: bytes.length + 4 * 1024 * 1024 });
    const convertSeconds = (performance.now() - began) / 1000;
    const t = performance.now();
    const framed = frameDocument({
      contextId: 'throughput',
      documentId: `pdf-${pages}`,
      mediaType: converted.mediaType,
      content: converted.content,
      values,
      seedsJsonl: null,
      seed: 7,
      heldOutRatio: 0.2,
      maxDocumentBytes: bytes.length + 4 * 1024 * 1024,
    });
    const frameSeconds = (performance.now() - t) / 1000;
    const fromPdf = new Set(clauseKeys(converted.content));
    const fromMarkdown = clauseKeys(documentOf(pages));
    const same = fromMarkdown.filter((k) => fromPdf.has(k)).length;
    console.log(
      `${String(pages).padStart(3)} pages of text = ${pdfPages} PDF pages (${(bytes.length / 1024).toFixed(0)} KiB): ` +
        `convert ${convertSeconds.toFixed(2)} s (${(pdfPages / convertSeconds).toFixed(1)} PDF pages/s, PDF.js in a worker of at most 512 MB heap), ` +
        `frame ${frameSeconds.toFixed(2)} s; ${framed.tree.clauses.length} clauses, ${same} of the Markdown's ${fromMarkdown.length} ` +
        `reproduced (numbering and text); peak RSS of this process ${peakRssMb().toFixed(0)} MB`,
    );
  }
})();
