/** The document types the gateway takes (its UPLOAD_MEDIA_TYPES), by file extension. */
export const MEDIA_TYPES: Readonly<Record<string, string>> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export const ACCEPT = Object.keys(MEDIA_TYPES)
  .map((e) => `.${e}`)
  .join(',');

/** The media type to upload a file as: from its extension (browsers often give none for .md). */
export function mediaTypeOf(filename: string): string | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  return ext ? (MEDIA_TYPES[ext] ?? null) : null;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
