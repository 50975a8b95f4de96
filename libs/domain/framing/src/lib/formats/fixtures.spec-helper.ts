// Test fixtures made in the test from one Markdown source: the same document as a PDF (pdf-lib,
// headings set larger), a DOCX (docx, heading styles and Word-numbered paragraphs) and an HTML
// page; and the damaged files the converters must refuse.
import { deflateRawSync } from 'node:zlib';
import { Document, HeadingLevel, LevelFormat, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** The shared source: headings, numbered paragraphs, (a)/(1)/(i) designators, ordered and bulleted lists, an example and a note. */
export const SOURCE_MARKDOWN = `# Sample Rules of Conduct

## 1 Scope

1.1 These rules apply to every employee and contractor of the agency, including temporary staff who work on its premises or use its information systems.

1.2 A manager must make these rules known to the people who report to them.

## 2 Gifts

2.1 An employee may not accept a gift from a prohibited source, except as follows:

(a) A gift with a market value of $20 or less per occasion.

(b) A gift given because of a family relationship, where the circumstances make clear that the relationship is the motive.

(1) The employee must record the gift within 30 days.

(i) The record names the giver and the value.

2.2 Employees must report any offer of a gift they refuse to the ethics office.

1. The report is made in writing.

2. The report is kept for six years.

- Gifts of cash are never accepted.

- Gifts to a spouse count as gifts to the employee.

> Example 1 to paragraph 2.1: An employee is offered a lunch worth $15 by a contractor. The employee may accept it.

> Note: Gifts between employees are covered by section 3.

### 2.3 Records

The ethics office keeps the records of gifts and refusals for six years after the employee leaves.

## 3 Gifts Between Employees

3.1 An employee may not give a gift to an official superior.
`;

type SourceBlock = { kind: 'heading'; level: number; text: string } | { kind: 'ordered' | 'bullet' | 'quote' | 'paragraph'; text: string };

export function sourceBlocks(markdown: string = SOURCE_MARKDOWN): SourceBlock[] {
  return markdown
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b !== '')
    .map((b): SourceBlock => {
      const heading = /^(#{1,6})\s+(.*)$/.exec(b);
      if (heading) return { kind: 'heading', level: (heading[1] as string).length, text: heading[2] as string };
      if (b.startsWith('> ')) return { kind: 'quote', text: b.replace(/^> /gm, '').replace(/\n/g, ' ') };
      if (b.startsWith('- ')) return { kind: 'bullet', text: b.slice(2) };
      if (/^\d+\.\s/.test(b)) return { kind: 'ordered', text: b.replace(/^\d+\.\s+/, '') };
      return { kind: 'paragraph', text: b.replace(/\n/g, ' ') };
    });
}

const HEADING_SIZES = [20, 16, 13, 12, 11, 11];

/** The source as a PDF: body text at 10 pt wrapped to the page, headings at 20/16/13 pt, a running head and page numbers. */
export async function markdownToPdf(markdown: string = SOURCE_MARKDOWN): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const width = 612;
  const height = 360;
  const left = 54;
  const maxWidth = width - 2 * left;
  let page = pdf.addPage([width, height]);
  let y = height - 60;
  const newPage = (): void => {
    page = pdf.addPage([width, height]);
    y = height - 60;
  };
  const wrap = (text: string, size: number, f = font, indent = 0): string[] => {
    const words = text.split(' ');
    const lines: string[] = [];
    let line = '';
    for (const word of words) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (f.widthOfTextAtSize(candidate, size) > maxWidth - indent && line !== '') {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    if (line !== '') lines.push(line);
    return lines;
  };
  let counter = 0;
  for (const block of sourceBlocks(markdown)) {
    const size = block.kind === 'heading' ? (HEADING_SIZES[block.level - 1] as number) : 10;
    const f = block.kind === 'heading' ? bold : font;
    let text = block.text;
    let indent = 0;
    if (block.kind === 'ordered') text = `${++counter}. ${text}`;
    else counter = 0;
    if (block.kind === 'bullet') text = `\u2022 ${text}`;
    if (block.kind === 'quote') indent = 24;
    const lines = wrap(text, size, f, indent);
    if (y - lines.length * size * 1.4 < 50) newPage();
    y -= block.kind === 'heading' ? size * 0.6 : 0;
    for (const line of lines) {
      page.drawText(line, { x: left + indent, y, size, font: f });
      y -= size * 1.4;
    }
    y -= 8;
  }
  const pages = pdf.getPages();
  pages.forEach((p, i) => {
    p.drawText('Sample Rules of Conduct \u2014 draft for comment', { x: left, y: height - 30, size: 8, font });
    p.drawText(`Page ${i + 1} of ${pages.length}`, { x: width / 2 - 20, y: 24, size: 8, font });
  });
  return pdf.save();
}

/**
 * Where the source's own numbers become Word's automatic numbering in the DOCX: one multi-level
 * "legal" list numbers the section headings (%1), the numbered paragraphs and the numbered
 * sub-heading (%1.%2) and the (a)/(1)/(i) paragraphs ((%3) letters, (%4) digits, (%5) roman).
 */
function legalLevel(block: SourceBlock): { level: number; text: string } | null {
  const text = block.text;
  if (block.kind === 'heading') {
    const m = /^(\d+(?:\.\d+)?)\s+(.*)$/.exec(text);
    return m ? { level: (m[1] as string).split('.').length - 1, text: m[2] as string } : null;
  }
  if (block.kind !== 'paragraph') return null;
  const numbered = /^\d+\.\d+\s+(.*)$/.exec(text);
  if (numbered) return { level: 1, text: numbered[1] as string };
  const designator = /^\(([a-z]+|\d+)\)\s+(.*)$/.exec(text);
  if (!designator) return null;
  const label = designator[1] as string;
  const level = /^\d+$/.test(label) ? 3 : /^(?:i|ii|iii|iv|v|vi)$/.test(label) ? 4 : 2;
  return { level, text: designator[2] as string };
}

/**
 * The source as a DOCX: Heading 1–3 styles; section, paragraph and (a)/(1)/(i) numbers as Word's
 * automatic multi-level numbering (legalLevel); the ordered items as a decimal Word list; bullets
 * as Word bullets.
 */
export async function markdownToDocx(markdown: string = SOURCE_MARKDOWN): Promise<Uint8Array> {
  const headings = [HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3, HeadingLevel.HEADING_4];
  let list = 0;
  let previous: SourceBlock['kind'] | null = null;
  const paragraphs = sourceBlocks(markdown).map((block) => {
    if (block.kind === 'ordered' && previous !== 'ordered') list++;
    previous = block.kind;
    const legal = legalLevel(block);
    const numbering = legal ? { reference: 'legal', level: legal.level } : undefined;
    const text = legal ? legal.text : block.text;
    if (block.kind === 'heading') {
      return new Paragraph({ text, heading: headings[block.level - 1] ?? HeadingLevel.HEADING_4, ...(numbering ? { numbering } : {}) });
    }
    if (block.kind === 'ordered') return new Paragraph({ text, numbering: { reference: 'decimal', level: 0, instance: list } });
    if (block.kind === 'bullet') return new Paragraph({ text, bullet: { level: 0 } });
    return new Paragraph({ text, ...(numbering ? { numbering } : {}) });
  });
  const doc = new Document({
    numbering: {
      config: [
        { reference: 'decimal', levels: [{ level: 0, format: LevelFormat.DECIMAL, text: '%1.', start: 1 }] },
        {
          reference: 'legal',
          levels: [
            { level: 0, format: LevelFormat.DECIMAL, text: '%1', start: 1 },
            { level: 1, format: LevelFormat.DECIMAL, text: '%1.%2', start: 1 },
            { level: 2, format: LevelFormat.LOWER_LETTER, text: '(%3)', start: 1 },
            { level: 3, format: LevelFormat.DECIMAL, text: '(%4)', start: 1 },
            { level: 4, format: LevelFormat.LOWER_ROMAN, text: '(%5)', start: 1 },
          ],
        },
      ],
    },
    sections: [{ children: paragraphs }],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The source as an HTML page, with a script, a style sheet and a navigation bar around it. */
export function markdownToHtml(markdown: string = SOURCE_MARKDOWN): string {
  const out: string[] = [];
  let open: 'ol' | 'ul' | null = null;
  for (const block of sourceBlocks(markdown)) {
    const want = block.kind === 'ordered' ? 'ol' : block.kind === 'bullet' ? 'ul' : null;
    if (open && open !== want) out.push(`</${open}>`);
    if (want && open !== want) out.push(`<${want}>`);
    open = want;
    if (block.kind === 'heading') out.push(`<h${block.level}>${escape(block.text)}</h${block.level}>`);
    else if (want) out.push(`<li>${escape(block.text)}</li>`);
    else if (block.kind === 'quote') out.push(`<blockquote><p>${escape(block.text)}</p></blockquote>`);
    else out.push(`<p>${escape(block.text)}</p>`);
  }
  if (open) out.push(`</${open}>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sample Rules</title>
<style>body { font-family: serif } h1 { font-size: 2em }</style>
<script>window.analytics = { track: function () { return 'Employees must click here'; } };</script></head>
<body><nav><a href="/">Home</a> | <a href="/rules">All rules</a></nav>
<main>
${out.join('\n')}
</main>
<script src="/app.js"></script></body></html>`;
}

/** A PDF the reader must refuse: the header, then garbage. */
export const MALFORMED_PDF = new TextEncoder().encode(
  '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\u0000\u0001garbage without pages or trailer',
);

/** A PDF encrypted with the standard security handler and a password that is not empty. */
export function encryptedPdf(): Uint8Array {
  const hex = (n: number): string => Array.from({ length: n }, (_, i) => ((i * 37 + 11) % 256).toString(16).padStart(2, '0')).join('');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>',
    `<< /Filter /Standard /V 1 /R 2 /O <${hex(32)}> /U <${hex(32).split('').reverse().join('')}> /P -44 >>`,
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<${hex(16)}> <${hex(16)}>] >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(body);
}

/** A "scanned" PDF: pages with a picture and shapes, and no text at all. */
export async function scannedPdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  // A 1x1 grey PNG standing for the scanned page image.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64');
  const image = await pdf.embedPng(png);
  for (let i = 0; i < 2; i++) {
    const page = pdf.addPage([612, 792]);
    page.drawImage(image, { x: 36, y: 36, width: 540, height: 720 });
    page.drawRectangle({ x: 72, y: 600, width: 200, height: 12 });
  }
  return pdf.save();
}

interface ZipEntry {
  name: string;
  data: Buffer;
  /** Uncompressed size to write in the headers (default: the real size). */
  declaredSize?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflate), written by hand so that a test can make its directory lie. */
export function zip(entries: ZipEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

const CONTENT_TYPES = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
);

/** A DOCX-shaped zip whose document.xml is `megabytes` MiB of one repeated byte: ~1000 to 1 compression. */
export function zipBombDocx(megabytes = 64): Uint8Array {
  return zip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES },
    { name: 'word/document.xml', data: Buffer.alloc(megabytes * 1024 * 1024, 0x20) },
  ]);
}

/** A DOCX-shaped zip whose directory says document.xml is 1 KiB while it expands to `megabytes` MiB. */
export function lyingZipDocx(megabytes = 8): Uint8Array {
  return zip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES },
    { name: 'word/document.xml', data: Buffer.alloc(megabytes * 1024 * 1024, 0x20), declaredSize: 1024 },
  ]);
}
