export * from './convert';
export * from './docx';
export * from './html';
export * from './limits';
export { blocksToMarkdown, CALLOUT, DESIGNATOR, type Block } from './markdown';
export * from './media-type';
export * from './pdf';
