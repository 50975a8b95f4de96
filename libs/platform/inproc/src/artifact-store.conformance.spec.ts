import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeArtifactStoreConformance } from '@studio/testing';
import { InMemoryArtifactStore } from './artifact-store';

describeArtifactStoreConformance('InMemoryArtifactStore (with a local folder)', () => {
  const localDir = mkdtempSync(join(tmpdir(), 'memory-artifacts-'));
  return { store: new InMemoryArtifactStore({ localDir }), dispose: async () => rmSync(localDir, { recursive: true, force: true }) };
});

describe('InMemoryArtifactStore without a local folder', () => {
  it('keeps artifacts in memory only: local paths are refused with the reason', async () => {
    const store = new InMemoryArtifactStore();
    const { uri } = await store.putImmutable('d/train.jsonl', '{}\n');
    expect(await store.read(uri)).toBe('{}\n');
    expect(uri).toBe('memory:///d/train.jsonl');
    expect(() => store.localPath('runs/r1')).toThrow(/no local folder/);
    expect(() => store.pathOf(uri)).toThrow(/no local folder/);
    expect(await store.exists('/tmp/anything')).toBe(false);
  });

  it('refuses a relative local folder', () => {
    expect(() => new InMemoryArtifactStore({ localDir: 'relative/dir' })).toThrow(/absolute/);
  });
});
