import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeArtifactStoreConformance } from '@studio/testing';
import { InMemoryArtifactStore } from './artifact-store';

describeArtifactStoreConformance('InMemoryArtifactStore', () => ({ store: new InMemoryArtifactStore() }));

describe('InMemoryArtifactStore local folder', () => {
  it('has no local paths without a local folder', async () => {
    const store = new InMemoryArtifactStore();
    const { uri } = await store.putImmutable('d/train.jsonl', '{}\n');
    expect(() => store.localPath('runs/r1')).toThrow(/no local folder/);
    expect(() => store.pathOf(uri)).toThrow(/no local folder/);
  });

  it('writes an artifact into its local folder for a local process, and finds what was written there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memory-artifacts-'));
    try {
      const store = new InMemoryArtifactStore({ localDir: dir });
      const { uri } = await store.putImmutable('datasets/v1/train.jsonl', '{"a":1}\n');
      const path = store.pathOf(uri);
      expect(path).toBe(join(dir, 'datasets/v1/train.jsonl'));
      expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
      expect(await store.exists(path)).toBe(true);
      expect(store.localPath('runs/r1')).toBe(join(dir, 'runs/r1'));
      expect(await store.exists(store.localPath('runs/r1'))).toBe(false);
      expect(() => store.localPath('../outside')).toThrow(/outside/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
