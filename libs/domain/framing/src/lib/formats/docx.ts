import mammoth from 'mammoth';
import * as yauzl from 'yauzl';
import { DocumentValidationError } from '../errors';
import { numberedParagraphs, type NumberedParagraph } from './docx-numbering';
import { htmlToMarkdown } from './html';
import {
  MAX_DOCX_COMPRESSION_RATIO,
  MAX_DOCX_ENTRIES,
  MAX_DOCX_ENTRY_BYTES,
  MAX_DOCX_TOTAL_BYTES,
  MIN_RATIO_CHECKED_BYTES,
} from './limits';

export interface DocxLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxRatio: number;
}

export const DOCX_LIMITS: DocxLimits = {
  maxEntries: MAX_DOCX_ENTRIES,
  maxEntryBytes: MAX_DOCX_ENTRY_BYTES,
  maxTotalBytes: MAX_DOCX_TOTAL_BYTES,
  maxRatio: MAX_DOCX_COMPRESSION_RATIO,
};

const MB = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

function bomb(message: string): DocumentValidationError {
  return new DocumentValidationError('zip-bomb', `DOCX refused as a zip bomb: ${message}`);
}

function openZip(bytes: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      { lazyEntries: true, validateEntrySizes: true },
      (error, zip) => {
        if (error || !zip) {
          reject(
            new DocumentValidationError('malformed-docx', `not a DOCX: the file is not a zip archive (${error?.message ?? 'unreadable'})`),
          );
        } else {
          resolve(zip);
        }
      },
    );
  });
}

/** Reads the central directory: every entry's declared sizes, checked against the limits. */
function inspect(zip: yauzl.ZipFile, limits: DocxLimits): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    let total = 0;
    const fail = (error: Error): void => {
      zip.close();
      reject(error);
    };
    if (zip.entryCount > limits.maxEntries) {
      fail(bomb(`${zip.entryCount} entries, over the limit of ${limits.maxEntries}`));
      return;
    }
    zip.on('error', (error: Error) => fail(new DocumentValidationError('malformed-docx', `not a readable DOCX: ${error.message}`)));
    zip.on('entry', (entry: yauzl.Entry) => {
      const size = entry.uncompressedSize;
      total += size;
      if (size > limits.maxEntryBytes) {
        return fail(bomb(`entry ${entry.fileName} expands to ${MB(size)}, over the limit of ${MB(limits.maxEntryBytes)} per entry`));
      }
      if (total > limits.maxTotalBytes) {
        return fail(bomb(`its entries expand to more than ${MB(limits.maxTotalBytes)} in all`));
      }
      const ratio = size / Math.max(entry.compressedSize, 1);
      if (size >= MIN_RATIO_CHECKED_BYTES && ratio > limits.maxRatio) {
        return fail(bomb(`entry ${entry.fileName} is compressed ${Math.round(ratio)} to 1, over the limit of ${limits.maxRatio} to 1`));
      }
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.readEntry();
  });
}

/** Decompresses one entry as a stream, counting bytes: more than `limit` aborts it. Keeps the bytes when `keep` is given. */
function drain(zip: yauzl.ZipFile, entry: yauzl.Entry, limit: number, keep?: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) {
        reject(
          new DocumentValidationError('malformed-docx', `not a readable DOCX: entry ${entry.fileName}: ${error?.message ?? 'unreadable'}`),
        );
        return;
      }
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        keep?.push(chunk);
        if (bytes > limit) {
          stream.destroy();
          reject(bomb(`entry ${entry.fileName} expands past ${MB(limit)} (more than its directory says)`));
        }
      });
      stream.on('error', (e: Error) =>
        reject(
          /too many bytes|too few bytes/i.test(e.message)
            ? bomb(`entry ${entry.fileName} expands to a size other than its directory says (${e.message})`)
            : new DocumentValidationError('malformed-docx', `not a readable DOCX: entry ${entry.fileName}: ${e.message}`),
        ),
      );
      stream.on('end', () => resolve(bytes));
    });
  });
}

/**
 * Checks that a DOCX is a zip that stays small when opened: the central directory is read first
 * (entry count, each entry's and the total uncompressed size, each large entry's compression
 * ratio), then every entry is stream-decompressed with a byte limit, so a directory that lies
 * about sizes is caught too. Memory stays bounded by the stream's chunks. Throws
 * DocumentValidationError: 'malformed-docx' (not a zip, not a Word document), 'zip-bomb'.
 */
export async function checkDocxArchive(bytes: Uint8Array, limits: DocxLimits = DOCX_LIMITS): Promise<DocxParts> {
  const zip = await openZip(bytes);
  const entries = await inspect(zip, limits);
  if (!entries.some((e) => e.fileName === 'word/document.xml')) {
    zip.close();
    throw new DocumentValidationError(
      'malformed-docx',
      'not a DOCX: the zip archive has no word/document.xml (is it another kind of zip?)',
    );
  }
  let total = 0;
  const kept = new Map<string, Buffer[]>(KEPT_PARTS.map((name) => [name, []]));
  try {
    for (const entry of entries) {
      if (entry.fileName.endsWith('/')) continue;
      total += await drain(zip, entry, Math.min(entry.uncompressedSize, limits.maxEntryBytes), kept.get(entry.fileName));
      if (total > limits.maxTotalBytes) throw bomb(`its entries expand to more than ${MB(limits.maxTotalBytes)} in all`);
    }
  } finally {
    zip.close();
  }
  const text = (name: string): string | null => {
    const chunks = kept.get(name) as Buffer[];
    return entries.some((e) => e.fileName === name) ? Buffer.concat(chunks).toString('utf8') : null;
  };
  return { documentXml: text('word/document.xml') as string, numberingXml: text('word/numbering.xml') };
}

/** The parts of a DOCX read while it is checked: the body and the list definitions. */
export interface DocxParts {
  documentXml: string;
  numberingXml: string | null;
}

const KEPT_PARTS = ['word/document.xml', 'word/numbering.xml'];

interface MammothElement {
  type: string;
  children?: MammothElement[];
  value?: string;
  numbering?: { isOrdered: boolean } | null;
}
const transforms = (mammoth as unknown as { transforms: { paragraph(f: (p: MammothElement) => MammothElement): (e: unknown) => unknown } })
  .transforms;
// mammoth's document model (no typings): a run of text to put Word's list label before a paragraph.
const documents = require('mammoth/lib/documents') as { run(children: unknown[]): MammothElement; text(value: string): MammothElement };

function textOf(element: MammothElement): string {
  if (element.type === 'text') return element.value ?? '';
  if (element.type === 'tab') return ' ';
  return (element.children ?? []).map(textOf).join('');
}

const squashed = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * A mammoth document transform writing Word's own list labels ("(a)", "3.2.1") as the text of the
 * numbered paragraphs, which mammoth would otherwise turn into <ol> items numbered 1, 2, 3. Each
 * numbered paragraph of mammoth's model takes the next label computed from document.xml whose
 * paragraph has the same text (a paragraph mammoth skips or adds does not shift the others).
 */
function writeListLabels(numbered: NumberedParagraph[]): (document: unknown) => unknown {
  let next = 0;
  return transforms.paragraph((paragraph) => {
    if (!paragraph.numbering?.isOrdered) return paragraph;
    const text = squashed(textOf(paragraph));
    for (let j = next; j < Math.min(numbered.length, next + 50); j++) {
      const candidate = numbered[j] as NumberedParagraph;
      if (candidate.text !== text) continue;
      next = j + 1;
      return {
        ...paragraph,
        numbering: null,
        children: [documents.run([documents.text(`${candidate.label} `)]), ...(paragraph.children ?? [])],
      };
    }
    return paragraph;
  });
}

/**
 * Converts a Word document (DOCX) to Markdown: the archive is checked first (checkDocxArchive),
 * then mammoth turns it into HTML (heading styles to `h1`–`h6`, Title to `h1`, Quote styles to
 * block quotes; numbered paragraphs keep the labels Word shows, "(a)", "3.2.1", computed from the
 * list definitions; bullets become items; images left out) and htmlToMarkdown writes the Markdown.
 */
export async function docxToMarkdown(bytes: Uint8Array, limits: DocxLimits = DOCX_LIMITS): Promise<string> {
  const parts = await checkDocxArchive(bytes, limits);
  let numbered: NumberedParagraph[] = [];
  try {
    numbered = parts.numberingXml ? numberedParagraphs(parts.documentXml, parts.numberingXml) : [];
  } catch (error) {
    throw new DocumentValidationError('malformed-docx', `not a readable DOCX: its list definitions: ${(error as Error).message}`);
  }
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        styleMap: [
          "p[style-name='Title'] => h1:fresh",
          "p[style-name='Subtitle'] => p:fresh",
          "p[style-name='Quote'] => blockquote > p:fresh",
          "p[style-name='Intense Quote'] => blockquote > p:fresh",
        ],
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
        ignoreEmptyParagraphs: true,
        transformDocument: writeListLabels(numbered),
      },
    );
    html = result.value;
  } catch (error) {
    throw new DocumentValidationError('malformed-docx', `not a readable DOCX: ${(error as Error).message}`);
  }
  return htmlToMarkdown(html, 'DOCX');
}
