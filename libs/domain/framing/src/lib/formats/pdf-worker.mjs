// Reads a PDF's text items with PDF.js (through unpdf) in a worker thread, so that the heap it
// may use is bounded (resourceLimits) and a PDF that takes too long can be stopped. Posts
// { ok: true, pages } or { ok: false, name, message }; see pdf.ts.
import { parentPort, workerData } from 'node:worker_threads';

const { data, maxPages } = workerData;

async function read() {
  const { getDocumentProxy } = await import('unpdf');
  const pdf = await getDocumentProxy(data, { verbosity: 0, isEvalSupported: false, stopAtErrors: false });
  try {
    if (pdf.numPages > maxPages) {
      return { ok: false, name: 'TooManyPages', message: String(pdf.numPages) };
    }
    const pages = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const [, , , height] = page.view;
      const content = await page.getTextContent();
      // Which fonts are bold: PDF.js knows a font's name and weight once the page's operators are read.
      const bold = new Map();
      if (content.items.some((item) => typeof item.str === 'string' && item.str.trim() !== '')) {
        await page.getOperatorList();
        for (const item of content.items) {
          if (typeof item.fontName !== 'string' || bold.has(item.fontName)) continue;
          let font = null;
          try {
            font = page.commonObjs.has(item.fontName) ? page.commonObjs.get(item.fontName) : null;
          } catch {
            font = null;
          }
          bold.set(item.fontName, Boolean(font && (font.bold || font.black || /bold|black|heavy|semibold|demi/i.test(font.name ?? ''))));
        }
      }
      const items = [];
      for (const item of content.items) {
        if (typeof item.str !== 'string') continue;
        const [a, b, c, d, x, y] = item.transform;
        items.push({
          s: item.str,
          x,
          y,
          w: item.width,
          size: Math.hypot(c, d) || Math.hypot(a, b),
          eol: item.hasEOL === true,
          b: bold.get(item.fontName) === true,
        });
      }
      pages.push({ height, items });
      page.cleanup();
    }
    return { ok: true, pages };
  } finally {
    // The worker ends after this answer, which frees the document; cleanup drops caches early.
    await pdf.cleanup?.();
  }
}

read().then(
  (result) => parentPort.postMessage(result),
  (error) => parentPort.postMessage({ ok: false, name: error?.name ?? 'Error', message: error?.message ?? String(error) }),
);
