import { DocumentValidationError } from '../errors';
import { parseDocument } from '../parse';
import { convertDocument, resolveMediaType } from './convert';
import { checkDocxArchive, DOCX_LIMITS } from './docx';
import { numberedParagraphs } from './docx-numbering';
import {
  encryptedPdf,
  lyingZipDocx,
  MALFORMED_PDF,
  markdownToDocx,
  markdownToHtml,
  markdownToPdf,
  scannedPdf,
  SOURCE_MARKDOWN,
  zip,
  zipBombDocx,
} from './fixtures.spec-helper';
import { htmlToMarkdown } from './html';
import { DOCX, HTML, mediaTypeForFilename, PDF } from './media-type';
import { PDF_LIMITS, pdfPagesToMarkdown, readPdfPages, type PdfTextItem } from './pdf';

jest.setTimeout(30_000);

const clausesOf = (content: Uint8Array | string, mediaType: 'text/markdown' | 'text/plain' = 'text/markdown') => {
  const tree = parseDocument(content, { documentId: 'rules', mediaType });
  return {
    title: tree.title,
    sections: tree.sections.map((s) => `${s.numbering} ${s.title}`),
    clauses: tree.clauses.map((c) => ({ numbering: c.numbering, kind: c.kind, text: c.text })),
  };
};

async function problemOf(promise: Promise<unknown>): Promise<DocumentValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DocumentValidationError) return error;
    throw error;
  }
  throw new Error('expected a DocumentValidationError');
}

const expected = clausesOf(SOURCE_MARKDOWN);

describe('convertDocument: the same document as Markdown, PDF, DOCX and HTML gives the same clauses', () => {
  it('the Markdown source itself has the structure the comparison is about', () => {
    expect(expected.clauses.map((c) => c.numbering)).toEqual(
      expect.arrayContaining([
        '1.1',
        '2.1',
        '2.1(a)',
        '2.1(b)',
        '2.1(b)(1)',
        '2.1(b)(1)(i)',
        '2.2',
        '2.2.1',
        '2.2.2',
        '2.2.i1',
        '2.x1',
        '2.n1',
      ]),
    );
    expect(expected.clauses.find((c) => c.kind === 'example')?.text).toMatch(/^Example 1 to paragraph 2\.1:/);
  });

  it('PDF (pdf-lib, headings in larger type, running head and page numbers)', async () => {
    const pdf = await markdownToPdf();
    const converted = await convertDocument(pdf, PDF);
    expect(converted.sourceMediaType).toBe(PDF);
    expect(converted.pages).toBeGreaterThanOrEqual(3);
    expect(converted.content).not.toMatch(/draft for comment|Page \d+ of/);
    expect(clausesOf(converted.content)).toEqual(expected);
  });

  it('DOCX (docx, heading styles, Word-numbered and bulleted paragraphs)', async () => {
    const docx = await markdownToDocx();
    // The numbers are Word's automatic numbering, not text of the document.
    const { documentXml, numberingXml } = await checkDocxArchive(docx);
    expect(documentXml).toContain('A gift with a market value');
    expect(documentXml).not.toMatch(/\(a\) A gift|2\.1 An employee|1 Scope/);
    expect(numberingXml).toContain('(%3)');
    const converted = await convertDocument(docx, 'rules.docx');
    expect(converted.sourceMediaType).toBe(DOCX);
    expect(clausesOf(converted.content)).toEqual(expected);
  });

  it('HTML (scripts, styles and navigation left out)', async () => {
    const html = new TextEncoder().encode(markdownToHtml());
    const converted = await convertDocument(html, HTML);
    expect(converted.content).not.toMatch(/analytics|font-family|All rules/);
    expect(clausesOf(converted.content)).toEqual(expected);
  });

  it('Markdown and plain text pass through as their own bytes', async () => {
    const bytes = new TextEncoder().encode(SOURCE_MARKDOWN);
    const md = await convertDocument(bytes, 'rules.md');
    expect(md).toEqual({ sourceMediaType: 'text/markdown', mediaType: 'text/markdown', content: bytes, pages: null });
    expect((await convertDocument(bytes, 'text/plain')).mediaType).toBe('text/plain');
  });
});

describe('htmlToMarkdown', () => {
  it('reads a page in the encoding its <meta charset> declares, and refuses bytes that are not that encoding', async () => {
    const latin1 = Buffer.from(
      '<meta charset="windows-1252"><h1>R\u00e8gles</h1><p>1.1 Les employ\u00e9s doivent d\u00e9clarer les cadeaux.</p>',
      'latin1',
    );
    const converted = await convertDocument(new Uint8Array(latin1), HTML);
    expect(converted.content).toBe('# R\u00e8gles\n\n1.1 Les employ\u00e9s doivent d\u00e9clarer les cadeaux.\n');
    const bad = await problemOf(convertDocument(new Uint8Array(Buffer.from('<p>caf\u00e9</p>', 'latin1')), HTML));
    expect(bad.problem).toBe('invalid-utf8');
    expect(bad.message).toBe('the HTML page is not valid utf-8 text');
  });

  it('writes table rows as text, labelled by the header row', () => {
    const md = htmlToMarkdown(
      '<h1>Fees</h1><table><tr><th>Service</th><th>Fee</th></tr><tr><td>Copy of a record</td><td>$5</td></tr><tr><td>Certified copy</td><td>$12</td></tr></table>',
    );
    expect(md).toBe('# Fees\n\nService: Copy of a record; Fee: $5\n\nService: Certified copy; Fee: $12\n');
  });

  it("numbers ordered lists as the list says (type, start) and keeps an item's own designator", () => {
    const md = htmlToMarkdown(
      '<h2>1 Rules</h2><ol type="a" start="3"><li>third</li><li>fourth</li></ol><ol><li>(x) own</li></ol><ol type="i"><li>one</li><li>two</li><li>three</li></ol>',
    );
    expect(md).toBe('## 1 Rules\n\n(c) third\n\n(d) fourth\n\n(x) own\n\n(i) one\n\n(ii) two\n\n(iii) three\n');
  });

  it('numbers past z like CSS lower-alpha and writes digits where a roman or letter label cannot count (0, negatives)', () => {
    const md = htmlToMarkdown(
      '<h2>1 Rules</h2><ol type="A" start="26"><li>z</li><li>aa</li><li>ab</li></ol><ol type="i" start="0"><li>zero</li><li>one</li></ol><ol type="a" start="-1"><li>minus</li></ol>',
    );
    expect(md).toBe('## 1 Rules\n\n(Z) z\n\n(AA) aa\n\n(AB) ab\n\n0. zero\n\n(i) one\n\n-1. minus\n');
  });

  it('keeps a multi-paragraph block quote as one quoted block and marks a bare "Note:" paragraph', () => {
    const md = htmlToMarkdown(
      '<h1>R</h1><blockquote><p>Example 2: first.</p><p>Second.</p></blockquote><p>Note: remember.</p><div hidden>secret</div>',
    );
    expect(md).toBe('# R\n\n> Example 2: first.\n>\n> Second.\n\n> Note: remember.\n');
  });
});

describe('numberedParagraphs (Word list labels)', () => {
  const numbering = `<w:numbering>
    <w:abstractNum w:abstractNumId="7"><w:lvl w:ilvl="0"><w:start w:val="3"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="Article %1."/></w:lvl>
      <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%2)"/></w:lvl>
      <w:lvl w:ilvl="2"><w:numFmt w:val="bullet"/><w:lvlText w:val="o"/></w:lvl></w:abstractNum>
    <w:num w:numId="1"><w:abstractNumId w:val="7"/></w:num>
    <w:num w:numId="2"><w:abstractNumId w:val="7"/><w:lvlOverride w:ilvl="1"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
  </w:numbering>`;
  const p = (numId: string, ilvl: number, text: string): string =>
    `<w:p><w:pPr><w:numPr><w:ilvl w:val="${ilvl}"/><w:numId w:val="${numId}"/></w:numPr></w:pPr><w:r><w:t>${text}</w:t></w:r></w:p>`;

  it('labels paragraphs by level format, text and start; restarts deeper levels; honours start overrides; skips bullets', () => {
    const body = `<w:document><w:body>${p('1', 0, 'Scope')}${p('1', 1, 'first')}${p('1', 1, 'second')}${p('1', 2, 'bullet')}${p('1', 0, 'Gifts')}${p('1', 1, 'third')}${p('2', 1, 'fourth')}<w:p><w:r><w:t>plain</w:t></w:r></w:p></w:body></w:document>`;
    expect(numberedParagraphs(body, numbering)).toEqual([
      { label: 'Article III.', text: 'Scope' },
      { label: '(a)', text: 'first' },
      { label: '(b)', text: 'second' },
      { label: 'Article IV.', text: 'Gifts' },
      { label: '(a)', text: 'third' },
      { label: '(e)', text: 'fourth' },
    ]);
  });

  it('repeats the letter past z as Word does (aa, bb) and writes digits where a roman numeral cannot count', () => {
    const defs = `<w:numbering>
      <w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="26"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>
      <w:abstractNum w:abstractNumId="2"><w:lvl w:ilvl="0"><w:start w:val="0"/><w:numFmt w:val="lowerRoman"/><w:lvlText w:val="(%1)"/></w:lvl></w:abstractNum>
      <w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="2"/></w:num>
    </w:numbering>`;
    const body = `<w:document><w:body>${p('1', 0, 'z')}${p('1', 0, 'aa')}${p('1', 0, 'bb')}${p('2', 0, 'zero')}${p('2', 0, 'one')}</w:body></w:document>`;
    expect(numberedParagraphs(body, defs).map((para) => para.label)).toEqual(['Z.', 'AA.', 'BB.', '(0)', '(i)']);
  });
});

describe('pdfPagesToMarkdown', () => {
  const line = (s: string, y: number, size = 10, x = 50): PdfTextItem => ({ s, x, y, w: s.length * size * 0.5, size, eol: true });

  it('joins a reference wrapped onto the next line, a hyphenated word, and breaks at designators after a full stop', () => {
    const md = pdfPagesToMarkdown([
      {
        height: 792,
        items: [
          line('Disclosures', 700, 16),
          line('(a) A covered entity may disclose information as permitted under paragraph', 670),
          line('(b)(2) of this section, to the individual or to a per-', 658),
          line('sonal representative.', 646),
          line('(b) A covered entity must keep a record; and', 634),
          line('(c) The record is kept for six years.', 622),
          line('Note: Records may be electronic.', 610),
        ],
      },
    ]);
    expect(md).toBe(
      '# Disclosures\n\n(a) A covered entity may disclose information as permitted under paragraph (b)(2) of this section, to the individual or to a personal representative.\n\n(b) A covered entity must keep a record; and\n\n(c) The record is kept for six years.\n\n> Note: Records may be electronic.\n',
    );
  });

  it('takes a short bold line at body size for a heading one level below the larger ones, where the body is not bold', () => {
    const bold = (s: string, y: number): PdfTextItem => ({ ...line(s, y), b: true });
    const md = pdfPagesToMarkdown([
      {
        height: 792,
        items: [
          line('Subpart E - Privacy', 730, 16),
          bold('§ 164.502 Uses and disclosures: general rules.', 700),
          line('(a) Standard. A covered entity may not use or disclose information.', 688),
          { ...bold('(b) Minimum necessary.', 676), s: '(b) Minimum necessary.' },
          line('A covered entity must limit uses.', 664, 10, 160),
          bold('Definitions', 640),
          line('Individual means the person who is the subject of the information.', 628),
        ],
      },
    ]);
    expect(md).toBe(
      '# Subpart E - Privacy\n\n## § 164.502 Uses and disclosures: general rules.\n\n(a) Standard. A covered entity may not use or disclose information.\n\n(b) Minimum necessary. A covered entity must limit uses.\n\n## Definitions\n\nIndividual means the person who is the subject of the information.\n',
    );
  });

  it('reads two columns in the order the PDF draws them, a paragraph running on into the next column', () => {
    const md = pdfPagesToMarkdown([
      {
        height: 792,
        items: [
          line('Uses', 730, 16),
          line('(a) A covered entity may use', 700, 10, 50),
          line('information for treatment.', 688, 10, 50),
          line('(b) A covered entity must', 676, 10, 50),
          line('keep records for six years.', 700, 10, 320),
          line('(c) Records may be electronic.', 688, 10, 320),
        ],
      },
    ]);
    expect(md).toBe(
      '# Uses\n\n(a) A covered entity may use information for treatment.\n\n(b) A covered entity must keep records for six years.\n\n(c) Records may be electronic.\n',
    );
  });

  it('sets items of one baseline apart by their gaps: a word space, or a table cell', () => {
    const md = pdfPagesToMarkdown([
      {
        height: 792,
        items: [
          line('Fees', 700, 16),
          { s: 'Copy', x: 50, y: 670, w: 20, size: 10, eol: false },
          { s: 'of a record', x: 73, y: 670, w: 50, size: 10, eol: false },
          { s: '$5', x: 300, y: 670, w: 10, size: 10, eol: true },
        ],
      },
    ]);
    expect(md).toBe('# Fees\n\nCopy of a record | $5\n');
  });
});

describe('convertDocument refuses, naming the problem', () => {
  it('a malformed PDF', async () => {
    const e = await problemOf(convertDocument(MALFORMED_PDF, PDF));
    expect(e.problem).toBe('malformed-pdf');
    expect(e.message).toMatch(/not a readable PDF/);
  });

  it('a file that is not a PDF at all', async () => {
    const e = await problemOf(convertDocument(new TextEncoder().encode('hello'), 'rules.pdf'));
    expect(e.problem).toBe('malformed-pdf');
    expect(e.message).toMatch(/%PDF-/);
  });

  it('an encrypted PDF', async () => {
    const e = await problemOf(convertDocument(encryptedPdf(), PDF));
    expect(e.problem).toBe('encrypted-pdf');
    expect(e.message).toMatch(/password/);
  });

  it('a scanned PDF without a text layer', async () => {
    const e = await problemOf(convertDocument(await scannedPdf(), PDF));
    expect(e.problem).toBe('no-text-layer');
    expect(e.message).toMatch(/no text layer.*2 pages/);
  });

  it('a PDF whose reading needs more memory than the worker may use, or more time', async () => {
    const pdf = await markdownToPdf();
    const memory = await problemOf(readPdfPages(pdf, { ...PDF_LIMITS, heapMb: 4 }));
    expect(memory.problem).toBe('too-large');
    expect(memory.message).toMatch(/needed more than 4 MB of memory/);
    const time = await problemOf(readPdfPages(pdf, { ...PDF_LIMITS, timeoutMs: 1 }));
    expect(time.message).toMatch(/took longer than 0\.001 s/);
    const pages = await problemOf(readPdfPages(pdf, { ...PDF_LIMITS, maxPages: 2 }));
    expect(pages.message).toMatch(/the PDF has \d+ pages, over the limit of 2/);
  });

  it('a PDF over the byte limit, before it is read', async () => {
    const e = await problemOf(convertDocument(await markdownToPdf(), PDF, { maxBytes: 100 }));
    expect(e.problem).toBe('too-large');
  });

  it('a DOCX zip bomb (one entry past the per-entry limit), from its directory alone', async () => {
    const bombFile = zipBombDocx(64);
    const before = process.memoryUsage().rss;
    const e = await problemOf(convertDocument(bombFile, DOCX));
    expect(e.problem).toBe('zip-bomb');
    expect(e.message).toMatch(/word\/document\.xml expands to 64\.0 MiB, over the limit of 32\.0 MiB/);
    // The bomb's 64 MiB were never expanded.
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('a DOCX entry compressed past the ratio limit', async () => {
    const e = await problemOf(convertDocument(zipBombDocx(8), DOCX));
    expect(e.problem).toBe('zip-bomb');
    expect(e.message).toMatch(/compressed \d+ to 1, over the limit of 100 to 1/);
  });

  it('a DOCX whose directory understates an entry: caught while stream-decompressing', async () => {
    const e = await problemOf(checkDocxArchive(lyingZipDocx(8), { ...DOCX_LIMITS }));
    expect(e.problem).toBe('zip-bomb');
    expect(e.message).toMatch(/word\/document\.xml/);
  });

  it('a DOCX with too many entries', async () => {
    const many = zip(Array.from({ length: 30 }, (_, i) => ({ name: `word/part${i}.xml`, data: Buffer.from('<x/>') })));
    const e = await problemOf(checkDocxArchive(many, { ...DOCX_LIMITS, maxEntries: 20 }));
    expect(e.problem).toBe('zip-bomb');
    expect(e.message).toMatch(/30 entries, over the limit of 20/);
  });

  it('a DOCX that is not a zip', async () => {
    const e = await problemOf(convertDocument(new TextEncoder().encode('# Rules\n\n1. Not a zip.'), 'rules.docx'));
    expect(e.problem).toBe('malformed-docx');
    expect(e.message).toMatch(/not a zip archive/);
  });

  it('a zip that is not a Word document', async () => {
    const e = await problemOf(convertDocument(zip([{ name: 'data.csv', data: Buffer.from('a,b\n1,2\n') }]), DOCX));
    expect(e.problem).toBe('malformed-docx');
    expect(e.message).toMatch(/no word\/document\.xml/);
  });

  it('an HTML page of scripts and styles only', async () => {
    const page =
      '<html><head><style>p{color:red}</style><script>var rules = "Employees must comply";</script></head><body><script>init()</script></body></html>';
    const e = await problemOf(convertDocument(new TextEncoder().encode(page), HTML));
    expect(e.problem).toBe('no-text');
    expect(e.message).toBe('HTML page has no readable text: only 2 script and 1 style elements and markup');
  });

  it('a format it does not read', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect((await problemOf(convertDocument(bytes, 'rules.doc'))).problem).toBe('unsupported-media-type');
    expect((await problemOf(convertDocument(bytes, 'application/msword'))).message).toMatch(/application\/msword is not supported/);
  });
});

describe('media types', () => {
  it('from file names and media types', () => {
    expect(mediaTypeForFilename('a/b/Rules.PDF')).toBe(PDF);
    expect(mediaTypeForFilename('rules.htm')).toBe(HTML);
    expect(mediaTypeForFilename('rules.docx')).toBe(DOCX);
    expect(mediaTypeForFilename('README')).toBe('text/plain');
    expect(resolveMediaType('text/html; charset=utf-8')).toBe(HTML);
    expect(() => mediaTypeForFilename('sheet.xlsx')).toThrow(/"\.xlsx" documents are not supported/);
  });
});
