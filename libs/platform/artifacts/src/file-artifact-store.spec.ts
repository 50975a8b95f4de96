import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArtifactStore } from './file-artifact-store';

describe('FileArtifactStore', () => {
  let dir: string;
  let store: FileArtifactStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-artifacts-'));
    store = new FileArtifactStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes immutable artifacts once and refuses different content under the same key', async () => {
    const first = await store.putImmutable('datasets/v1/train.jsonl', 'a\n');
    expect(first).toEqual({
      uri: `file://${join(dir, 'datasets/v1/train.jsonl')}`,
      sha256: '87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7',
      created: true,
    });
    expect(await store.putImmutable('datasets/v1/train.jsonl', 'a\n')).toEqual({ ...first, created: false });
    await expect(store.putImmutable('datasets/v1/train.jsonl', 'b\n')).rejects.toThrow(/already exists with different content/);
    expect(await store.read(first.uri)).toBe('a\n');
    expect(Buffer.from(await store.readBytes(first.uri)).toString()).toBe('a\n');
    expect(store.pathOf(first.uri)).toBe(join(dir, 'datasets/v1/train.jsonl'));
    expect(store.uriOf('datasets/v1/train.jsonl')).toBe(first.uri);
    expect(await store.exists(first.uri)).toBe(true);
    expect(await store.exists(join(dir, 'nothing'))).toBe(false);
  });

  it('replaces mutable artifacts', async () => {
    await store.put('runs/r/report.md', 'one');
    const second = await store.put('runs/r/report.md', 'two');
    expect(await store.read(second.uri)).toBe('two');
  });

  it('keeps keys and read paths inside its folder', async () => {
    expect(() => store.localPath('../escape')).toThrow(/outside the artifact folder/);
    expect(() => store.pathOf('/etc/passwd')).toThrow(/outside the artifact folder/);
    await expect(store.read('file:///etc/passwd')).rejects.toThrow(/outside the artifact folder/);
    expect(() => store.pathOf('s3://bucket/x')).toThrow(/neither a file/);
    expect(() => new FileArtifactStore('relative/dir')).toThrow(/absolute path/);
  });

  it('removes everything under a prefix, and only there', async () => {
    await store.putImmutable('tenants/acme/documents/d/x.md', 'x');
    await store.putImmutable('tenants/acme/datasets/v/train.jsonl', 't');
    await store.putImmutable('tenants/globex/documents/d/x.md', 'x');
    expect(await store.removeAll('tenants/acme')).toBe(2);
    expect(await store.exists(join(dir, 'tenants/acme'))).toBe(false);
    expect(await store.read(store.uriOf('tenants/globex/documents/d/x.md'))).toBe('x');
    expect(await store.removeAll('tenants/acme')).toBe(0);
    await expect(store.removeAll('')).rejects.toThrow(/outside the artifact folder/);
    await expect(store.removeAll('../x')).rejects.toThrow(/outside the artifact folder/);
  });
});
