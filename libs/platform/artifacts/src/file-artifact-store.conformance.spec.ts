import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeArtifactStoreConformance } from '@studio/testing';
import { FileArtifactStore } from './file-artifact-store';

describeArtifactStoreConformance('FileArtifactStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'artifact-conformance-'));
  return { store: new FileArtifactStore(root), dispose: async () => rmSync(root, { recursive: true, force: true }) };
});
