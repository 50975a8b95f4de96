import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRepositoryConformance } from '@studio/testing';
import { SqliteStore } from './sqlite-store';

describeRepositoryConformance('SqliteRepository (node:sqlite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repository-conformance-'));
  const store = SqliteStore.open(dir, 'conformance');
  return {
    repository: async (spec) => store.repository(spec),
    dispose: async () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
