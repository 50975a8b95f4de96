import type { ArtifactStore } from '@studio/ports';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, posix, relative, sep } from 'node:path';

export interface InMemoryArtifactStoreOptions {
  /**
   * A folder for local processes (the model runtime): `localPath(key)` points into it (and
   * `exists` finds both what a process wrote there and the artifacts written under that key),
   * and `pathOf(uri)` writes the artifact there before returning its path. Without it, both
   * throw: the artifacts then exist only in this process.
   */
  localDir?: string;
}

const SCHEME = 'memory:///';

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Artifacts kept in memory, addressed by `memory:///<key>` URIs: for tests and one-process
 * runs that need no files. Same rules as FileArtifactStore: keys are normalised ("a/./b" is
 * "a/b") and may not leave the store, immutable artifacts are written once, and only this
 * store's URIs are read.
 */
export class InMemoryArtifactStore implements ArtifactStore {
  private readonly artifacts = new Map<string, Uint8Array>();
  private readonly localDir: string | null;

  constructor(options: InMemoryArtifactStoreOptions = {}) {
    if (options.localDir !== undefined && !isAbsolute(options.localDir)) {
      throw new Error(`local folder "${options.localDir}" of the in-memory artifact store must be an absolute path`);
    }
    this.localDir = options.localDir === undefined ? null : normalize(options.localDir);
  }

  /** The URI of a key (whether or not it has been written). */
  uriOf(key: string): string {
    return `${SCHEME}${normalizeKey(key)}`;
  }

  async putImmutable(key: string, content: string | Uint8Array): Promise<{ uri: string; sha256: string; created: boolean }> {
    const normalized = normalizeKey(key);
    const uri = `${SCHEME}${normalized}`;
    const digest = sha256(content);
    const existing = this.artifacts.get(normalized);
    if (existing) {
      const had = sha256(existing);
      if (had !== digest) {
        throw new Error(`artifact ${uri} already exists with different content (sha256 ${had}, new ${digest}): artifacts are immutable`);
      }
      return { uri, sha256: digest, created: false };
    }
    this.artifacts.set(normalized, toBytes(content));
    return { uri, sha256: digest, created: true };
  }

  async put(key: string, content: string): Promise<{ uri: string; sha256: string }> {
    const normalized = normalizeKey(key);
    this.artifacts.set(normalized, toBytes(content));
    return { uri: `${SCHEME}${normalized}`, sha256: sha256(content) };
  }

  async read(uri: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(uri));
  }

  async readBytes(uri: string): Promise<Uint8Array> {
    const key = this.keyOf(uri);
    const content = this.artifacts.get(key);
    if (!content) throw new Error(`artifact ${uri} does not exist`);
    return new Uint8Array(content);
  }

  async removeAll(prefix: string): Promise<number> {
    const root = normalizeKey(prefix);
    let removed = 0;
    for (const key of [...this.artifacts.keys()]) {
      if (key === root || key.startsWith(`${root}/`)) {
        this.artifacts.delete(key);
        removed += 1;
      }
    }
    if (this.localDir !== null) rmSync(join(this.localDir, root), { recursive: true, force: true });
    return removed;
  }

  /** A `memory:///` URI of this store, or a path under the local folder. */
  async exists(uriOrPath: string): Promise<boolean> {
    if (uriOrPath.startsWith(SCHEME)) {
      try {
        return this.artifacts.has(this.keyOf(uriOrPath));
      } catch {
        return false;
      }
    }
    if (this.localDir === null || !isAbsolute(uriOrPath)) return false;
    const path = normalize(uriOrPath);
    if (!isInside(this.localDir, path)) return false;
    if (existsSync(path)) return true;
    // The local path of a key holds the artifacts written under it, as the folder of FileArtifactStore does.
    const key = relative(this.localDir, path).split(sep).join('/');
    return this.artifacts.has(key) || [...this.artifacts.keys()].some((k) => k.startsWith(`${key}/`));
  }

  localPath(key: string): string {
    return join(this.requireLocalDir(`local path of "${key}"`), normalizeKey(key));
  }

  /** Writes the artifact into the local folder (once per content) and returns its path there. */
  pathOf(uri: string): string {
    const dir = this.requireLocalDir(`path of ${uri}`);
    const key = this.keyOf(uri);
    const content = this.artifacts.get(key);
    if (!content) throw new Error(`artifact ${uri} does not exist`);
    const path = join(dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  private keyOf(uri: string): string {
    if (!uri.startsWith(SCHEME)) throw new Error(`artifact uri "${uri}" is not a ${SCHEME} uri of the in-memory artifact store`);
    const key = uri.slice(SCHEME.length);
    if (normalizeKey(key) !== key) throw new Error(`artifact uri "${uri}" is not a uri this store gave out`);
    return key;
  }

  private requireLocalDir(what: string): string {
    if (this.localDir === null) {
      throw new Error(`${what}: the in-memory artifact store has no local folder (give it \`localDir\`, or use FileArtifactStore)`);
    }
    return this.localDir;
  }
}

/** "a/./b" → "a/b"; refuses keys that are empty or leave the store ("../x", "a/../../x"). */
function normalizeKey(key: string): string {
  const normalized = posix.normalize(key.replace(/^\/+/, ''));
  if (normalized === '.' || normalized === '' || normalized === '..' || normalized.startsWith('../')) {
    throw new Error(`artifact key "${key}" points outside the artifact store`);
  }
  return normalized.replace(/\/+$/, '');
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}

function toBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content);
}
