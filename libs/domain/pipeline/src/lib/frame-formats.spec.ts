import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from '@studio/framing';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { fakeLlm, openHarness, POLICY, TENANT, type Harness } from './fixtures.spec-helper';
import { DocumentRejectedError, frameUploadedDocument, generateDatasetVersion, uploadDocument, type UploadInput } from './frame';

jest.setTimeout(30_000);

/** POLICY as a PDF: headings set larger than the body, one line per paragraph. */
async function policyPdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([612, 792]);
  let y = 740;
  for (const block of POLICY.split(/\n\s*\n/).filter((b) => b.trim() !== '')) {
    const heading = /^(#+)\s+(.*)$/.exec(block.trim());
    const size = heading ? (heading[1] === '#' ? 20 : 15) : 9;
    page.drawText((heading ? (heading[2] as string) : block.trim()).replace(/\*\*/g, ''), { x: 40, y, size, font });
    y -= size * 2.2;
  }
  return pdf.save();
}

const PDF = 'application/pdf' as const;

function upload(content: Uint8Array, mediaType: UploadInput['mediaType'] = PDF, filename = 'policy.pdf'): UploadInput {
  return { tenant: TENANT, contextId: 'acme-conduct', filename, mediaType, content, maxBytes: 1_000_000, source: '/test' };
}

describe('framing a PDF upload', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
  });
  afterEach(() => h.close());

  it('keeps the PDF as uploaded and frames the text converted from it, as the Markdown would be framed', async () => {
    const bytes = await policyPdf();
    const event = await uploadDocument(h, upload(bytes));
    expect(event.data.mediaType).toBe(PDF);
    expect(event.data.storageUri.startsWith('data:application/pdf;base64,')).toBe(true);
    const framed = await frameUploadedDocument(h, event);
    expect(framed.document.status).toBe('framed');
    const markdown = parseDocument(POLICY, { documentId: event.data.documentId, mediaType: 'text/markdown' });
    expect(framed.clauses.map((c) => [c.numbering, c.text])).toEqual(markdown.clauses.map((c) => [c.numbering, c.text]));
    // The stored original is the PDF itself.
    expect(framed.document.storageUri).toMatch(new RegExp(`documents/${event.data.documentId}/${event.data.sha256}\\.pdf$`));
    expect(Buffer.from(await h.artifacts.readBytes(framed.document.storageUri)).equals(Buffer.from(bytes))).toBe(true);
    const dataset = await generateDatasetVersion(h, {
      tenant: TENANT,
      contextId: 'acme-conduct',
      documentId: framed.document.id,
      values: null,
      seedsJsonl: null,
      seed: 7,
      heldOutRatio: 0.2,
    });
    expect(dataset.dataset.train.examples).toBeGreaterThan(0);
  });

  it.each([
    ['a malformed PDF', PDF, 'policy.pdf', new TextEncoder().encode('%PDF-1.7\n1 0 obj << >> endobj\ntruncated'), 'malformed-pdf'],
    [
      'a DOCX that is not a zip',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'policy.docx',
      new TextEncoder().encode(POLICY),
      'malformed-docx',
    ],
    ['an HTML page of scripts', 'text/html', 'policy.html', new TextEncoder().encode('<script>go()</script>'), 'no-text'],
  ] as const)('refuses %s before anything is published or stored', async (_what, mediaType, filename, content, problem) => {
    const error = await uploadDocument(h, upload(content, mediaType, filename)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentRejectedError);
    expect((error as DocumentRejectedError).problem).toBe(problem);
    await h.bus.idle();
    expect(h.events).toEqual([]);
    expect(existsSync(join(h.dir, 'documents'))).toBe(false);
    expect(await h.repos.documents.count(TENANT)).toBe(0);
  });
});
