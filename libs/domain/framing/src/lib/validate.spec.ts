import { DocumentValidationError } from './errors';
import { parseDocument } from './parse';
import { DEFAULT_MAX_DOCUMENT_BYTES, decodeDocument } from './validate';

function problemOf(fn: () => unknown): { problem: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof DocumentValidationError) return { problem: e.problem, message: e.message };
    throw e;
  }
  throw new Error('expected a DocumentValidationError');
}

describe('decodeDocument', () => {
  it('rejects empty and whitespace-only documents', () => {
    expect(problemOf(() => decodeDocument(''))).toEqual({ problem: 'empty', message: 'document is empty' });
    expect(problemOf(() => decodeDocument(' \n\t\n')).problem).toBe('empty');
    expect(problemOf(() => decodeDocument(new Uint8Array())).problem).toBe('empty');
  });

  it('rejects NUL bytes as binary content', () => {
    const r = problemOf(() => decodeDocument('# Title\n\u0000\u0000'));
    expect(r.problem).toBe('binary');
    expect(r.message).toMatch(/NUL/);
    expect(problemOf(() => decodeDocument(new Uint8Array([0x23, 0x20, 0x41, 0x00, 0x42]))).problem).toBe('binary');
  });

  it('rejects a high share of control characters but tolerates a stray one', () => {
    const noisy = '# Policy\n' + 'ab\u0001\u0002\u0003cd'.repeat(50);
    const r = problemOf(() => decodeDocument(noisy));
    expect(r.problem).toBe('binary');
    expect(r.message).toMatch(/control characters/);
    expect(decodeDocument('# Policy\n\n1. Employees must comply.\u000C\n' + 'x'.repeat(500))).toContain('Employees');
  });

  it('rejects bytes that are not UTF-8 and text full of replacement characters', () => {
    expect(problemOf(() => decodeDocument(new Uint8Array([0x31, 0x2e, 0x20, 0xc3, 0x28, 0xff]))).problem).toBe('invalid-utf8');
    const r = problemOf(() => decodeDocument('1. Employees \uFFFD\uFFFD must \uFFFD comply \uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD.'));
    expect(r.problem).toBe('invalid-utf8');
    expect(r.message).toMatch(/U\+FFFD/);
  });

  it('rejects documents over the size limit, counting UTF-8 bytes', () => {
    const r = problemOf(() => decodeDocument('€'.repeat(400), { maxBytes: 1000 }));
    expect(r).toEqual({ problem: 'too-large', message: 'document is 1200 bytes, over the limit of 1000 bytes' });
    expect(decodeDocument('€'.repeat(300), { maxBytes: 1000 })).toHaveLength(300);
    expect(DEFAULT_MAX_DOCUMENT_BYTES).toBe(2 * 1024 * 1024);
    const big = '1. Employees must comply.\n'.repeat(Math.ceil(DEFAULT_MAX_DOCUMENT_BYTES / 26) + 1);
    expect(problemOf(() => decodeDocument(big)).problem).toBe('too-large');
  });

  it('decodes UTF-8 bytes, drops a byte-order mark and normalises line endings', () => {
    const bytes = new TextEncoder().encode('\uFEFF# Título\r\n\r\n1. Employees must comply.\r');
    expect(decodeDocument(bytes)).toBe('# Título\n\n1. Employees must comply.\n');
  });
});

describe('parseDocument input validation', () => {
  it('rejects a document with no headings and no numbered paragraphs', () => {
    const r = problemOf(() => parseDocument('We value integrity.\n\nEveryone should be nice to each other.', { documentId: 'memo' }));
    expect(r.problem).toBe('no-structure');
    expect(r.message).toMatch(/no sections or numbered clauses found/);
  });

  it('rejects document ids that cannot be part of a clause id', () => {
    expect(problemOf(() => parseDocument('1. Employees must comply.', { documentId: 'a:b' })).problem).toBe('invalid-document-id');
    expect(problemOf(() => parseDocument('1. Employees must comply.', { documentId: 'has space' })).problem).toBe('invalid-document-id');
  });

  it('passes the size limit through', () => {
    expect(problemOf(() => parseDocument('1. Employees must comply.', { documentId: 'd', maxBytes: 10 })).problem).toBe('too-large');
  });
});
