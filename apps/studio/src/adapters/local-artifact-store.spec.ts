import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from './local-artifact-store';

describe('LocalArtifactStore', () => {
  let dir: string;
  let store: LocalArtifactStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-artifacts-'));
    store = new LocalArtifactStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes immutable artifacts once and refuses different content under the same key', async () => {
    const first = await store.putImmutable('datasets/v1/train.jsonl', 'a\n');
    expect(first.created).toBe(true);
    expect(first.uri).toBe(`file://${join(dir, 'datasets/v1/train.jsonl')}`);
    expect(first.sha256).toBe('87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7');
    expect(await store.putImmutable('datasets/v1/train.jsonl', 'a\n')).toEqual({ ...first, created: false });
    await expect(store.putImmutable('datasets/v1/train.jsonl', 'b\n')).rejects.toThrow(/already exists with different content/);
    expect(await store.read(first.uri)).toBe('a\n');
    expect(store.pathOf(first.uri)).toBe(join(dir, 'datasets/v1/train.jsonl'));
    expect(await store.exists(first.uri)).toBe(true);
    expect(await store.exists(join(dir, 'nothing'))).toBe(false);
  });

  it('replaces mutable artifacts and keeps keys inside its folder', async () => {
    await store.put('runs/r/report.md', 'one');
    const second = await store.put('runs/r/report.md', 'two');
    expect(await store.read(second.uri)).toBe('two');
    expect(() => store.localPath('../escape')).toThrow(/outside/);
    expect(() => store.pathOf('s3://bucket/x')).toThrow(/neither a file/);
  });
});
