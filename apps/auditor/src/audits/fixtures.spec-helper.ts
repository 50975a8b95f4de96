import type { DatasetVersionRecord } from '@studio/pipeline';

const sha = (c: string) => c.repeat(64);

/** A dataset version whose files do not exist: enough for an audit that never reads them. */
export const DATASET: DatasetVersionRecord = {
  id: 'dv-1',
  contextId: 'ctx-1',
  sha256: sha('a'),
  documentId: 'doc-1',
  documentSha256: sha('b'),
  systemPrompt: 'Follow the guidelines.',
  train: { uri: 'file:///nowhere/train.jsonl', sha256: sha('c'), examples: 1 },
  heldOut: { uri: 'file:///nowhere/held-out.jsonl', sha256: sha('d'), examples: 1 },
  examplesByKind: { qa: 2 },
  clauseCoverage: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  documents: [{ documentId: 'doc-1', version: 1, sha256: sha('b') }],
  examplesUri: null,
  settingsSha256: null,
  incremental: null,
  review: null,
  conceptCoverage: null,
};
