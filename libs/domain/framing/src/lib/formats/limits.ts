/**
 * Limits of the document converters. The size of an upload itself is the caller's `maxBytes`
 * (MAX_DOCUMENT_BYTES in the services, 2 MiB by default); these bound what a small file may
 * expand into while it is read.
 */

/** A PDF with more pages than this is refused before its pages are read. */
export const MAX_PDF_PAGES = 2000;
/** Heap of the worker thread that reads a PDF (PDF.js): a PDF that needs more is refused. */
export const PDF_WORKER_HEAP_MB = 512;
/** How long reading one PDF may take before it is refused. */
export const PDF_TIMEOUT_MS = 120_000;

/** Entries in a DOCX (zip) archive. */
export const MAX_DOCX_ENTRIES = 10_000;
/** Uncompressed size of one entry of a DOCX. */
export const MAX_DOCX_ENTRY_BYTES = 32 * 1024 * 1024;
/** Uncompressed size of all the entries of a DOCX together. */
export const MAX_DOCX_TOTAL_BYTES = 128 * 1024 * 1024;
/** Largest compression ratio (uncompressed / compressed) of an entry past MIN_RATIO_CHECKED_BYTES. */
export const MAX_DOCX_COMPRESSION_RATIO = 100;
/** Entries smaller than this (uncompressed) are not held to the ratio: tiny XML parts compress very well. */
export const MIN_RATIO_CHECKED_BYTES = 1024 * 1024;
