import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVectorIndexConformance } from '@studio/testing';
import { ExactVectorIndex } from './vector-index';

describeVectorIndexConformance('ExactVectorIndex (in memory)', async () => ({
  index: new ExactVectorIndex(),
  collectionName: (suffix) => `clauses-${suffix}`,
}));

describeVectorIndexConformance('ExactVectorIndex (with a data folder)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vector-conformance-'));
  return {
    index: new ExactVectorIndex({ dataDir: dir }),
    collectionName: (suffix) => `clauses-${suffix}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
