import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ArtifactStore } from '@studio/ports';

/** One adapter under test, fresh for each case. */
export interface ArtifactStoreUnderTest {
  store: ArtifactStore;
  /** Removes what the store wrote (a temporary folder...). */
  dispose?: () => Promise<void>;
}

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The ArtifactStore port's semantics, the same cases for every adapter: immutable writes
 * (same content again is a no-op, different content is an error), replaceable writes, reading
 * back exactly what was written, `exists`, and keys and URIs confined to the store.
 */
export function describeArtifactStoreConformance(
  name: string,
  makeStore: () => ArtifactStoreUnderTest | Promise<ArtifactStoreUnderTest>,
): void {
  describe(`ArtifactStore conformance: ${name}`, () => {
    let subject: ArtifactStoreUnderTest;
    let store: ArtifactStore;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.dispose?.();
    });

    it('putImmutable writes once; the same content again is a no-op with the same uri and sha256', async () => {
      const first = await store.putImmutable('docs/conduct.md', '# Conduct\n');
      expect(first).toEqual({ uri: expect.any(String), sha256: sha256('# Conduct\n'), created: true });
      const again = await store.putImmutable('docs/conduct.md', '# Conduct\n');
      expect(again).toEqual({ ...first, created: false });
      // The same bytes given as a Uint8Array are the same content.
      const bytes = await store.putImmutable('docs/conduct.md', new TextEncoder().encode('# Conduct\n'));
      expect(bytes).toEqual({ ...first, created: false });
    });

    it('putImmutable refuses different content under an existing key and keeps the original', async () => {
      const { uri } = await store.putImmutable('datasets/v1/train.jsonl', '{"a":1}\n');
      await expect(store.putImmutable('datasets/v1/train.jsonl', '{"a":2}\n')).rejects.toThrow(/immutable/);
      expect(await store.read(uri)).toBe('{"a":1}\n');
    });

    it('reads back exactly what was written, text and bytes, under distinct uris per key', async () => {
      const text = 'línea 1 — ✓\nline 2\n';
      const a = await store.putImmutable('a/text.md', text);
      const b = await store.putImmutable('b/bytes.bin', new TextEncoder().encode(text));
      expect(a.uri).not.toBe(b.uri);
      expect(await store.read(a.uri)).toBe(text);
      expect(await store.read(b.uri)).toBe(text);
      expect(b.sha256).toBe(sha256(text));
    });

    it('names one artifact by one normalised key: "a/./b" and "a/b" are the same artifact', async () => {
      const first = await store.putImmutable('runs/./r1/report.md', 'report');
      const second = await store.putImmutable('runs/r1/report.md', 'report');
      expect(second).toEqual({ ...first, created: false });
      await expect(store.putImmutable('runs/x/../r1/report.md', 'other')).rejects.toThrow(/immutable/);
    });

    it('put replaces what was there and reports the sha256 of the new content', async () => {
      const first = await store.put('runs/r1/report.json', '{"v":1}');
      expect(first.sha256).toBe(sha256('{"v":1}'));
      const second = await store.put('runs/r1/report.json', '{"v":2}');
      expect(second).toEqual({ uri: first.uri, sha256: sha256('{"v":2}') });
      expect(await store.read(second.uri)).toBe('{"v":2}');
    });

    it('exists is true for a written artifact and false for a missing one', async () => {
      const { uri } = await store.putImmutable('present.txt', 'here');
      expect(await store.exists(uri)).toBe(true);
      const missing = uri.replace(/present\.txt$/, 'absent.txt');
      expect(missing).not.toBe(uri);
      expect(await store.exists(missing)).toBe(false);
      await expect(store.read(missing)).rejects.toThrow();
    });

    it('gives local processes paths: pathOf reads the artifact, localPath holds what is written under its key', async () => {
      const { uri } = await store.putImmutable('datasets/v1/train.jsonl', '{"a":1}\n');
      const path = store.pathOf(uri);
      expect(isAbsolute(path)).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
      expect(await store.exists(path)).toBe(true);

      const runDir = store.localPath('runs/r1');
      expect(isAbsolute(runDir)).toBe(true);
      expect(await store.exists(runDir)).toBe(false);
      await store.put('runs/r1/artifact/adapter_config.json', '{}');
      expect(await store.exists(runDir)).toBe(true);
      expect(await store.exists(store.localPath('runs/r1/artifact/adapter_config.json'))).toBe(true);
      expect(await store.exists(store.localPath('runs/r2'))).toBe(false);

      // What a local process (the model runtime) writes into a local path exists.
      const output = store.localPath('runs/r3');
      mkdirSync(output, { recursive: true });
      writeFileSync(join(output, 'adapter_model.safetensors'), 'weights');
      expect(await store.exists(join(output, 'adapter_model.safetensors'))).toBe(true);
      expect(() => store.localPath('../outside')).toThrow();
    });

    it.each(['../escape.txt', 'a/../../escape.txt', '..'])('refuses the key %j, which escapes the store, on every write', async (key) => {
      await expect(store.putImmutable(key, 'x')).rejects.toThrow();
      await expect(store.put(key, 'x')).rejects.toThrow();
    });

    it("removeAll removes every artifact under a prefix (a tenant's, on erasure) and nothing beside it; the whole store is refused", async () => {
      const a = await store.putImmutable('tenants/acme/documents/d.md', 'a');
      const b = await store.put('tenants/acme/runs/r/report.md', 'b');
      const kept = await store.putImmutable('tenants/acme-2/documents/d.md', 'c');
      expect(await store.removeAll('tenants/acme')).toBe(2);
      expect(await store.exists(a.uri)).toBe(false);
      expect(await store.exists(b.uri)).toBe(false);
      expect(await store.read(kept.uri)).toBe('c');
      expect(await store.removeAll('tenants/acme')).toBe(0);
      await expect(store.removeAll('')).rejects.toThrow();
      await expect(store.removeAll('../x')).rejects.toThrow();
    });

    it('refuses to read, and does not find, a uri that is not one of its artifacts', async () => {
      for (const foreign of ['file:///etc/hostname', '/etc/hostname']) {
        await expect(store.read(foreign)).rejects.toThrow();
        expect(await store.exists(foreign)).toBe(false);
      }
    });
  });
}
