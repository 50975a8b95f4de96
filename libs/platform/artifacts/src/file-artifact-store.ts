import type { ArtifactStore } from '@studio/ports';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Artifacts (documents, dataset files, adapters, reports) as files under one root folder,
 * addressed by `file://` URIs. In the distributed profile the root is a folder every service
 * and the model runtime's worker mount at the same path (`STUDIO_ARTIFACT_DIR`; a shared volume
 * in Kubernetes), so a URI written by one process is readable by all of them.
 *
 * Immutable artifacts are written once (same content again is a no-op, different content is an
 * error); every write goes to a temporary file first and is renamed into place, so a reader
 * never sees half a file. Keys cannot leave the root. Reading is limited to the root too:
 * a URI from an event cannot make a service read an arbitrary file.
 */
export class FileArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new Error(`artifact folder "${root}" must be an absolute path`);
    this.root = resolve(root);
  }

  /** The absolute path of `key` under the root; throws when the key points outside it. */
  localPath(key: string): string {
    const path = normalize(join(this.root, key));
    this.assertInside(path, `artifact key "${key}"`);
    return path;
  }

  /** The path of an artifact given by `file://` URI or absolute path; it must lie under the root. */
  pathOf(uri: string): string {
    let path: string;
    if (uri.startsWith('file:')) path = fileURLToPath(uri);
    else if (isAbsolute(uri)) path = normalize(uri);
    else throw new Error(`artifact uri "${uri}" is neither a file:// URI nor an absolute path`);
    this.assertInside(path, `artifact uri "${uri}"`);
    return path;
  }

  /** The `file://` URI of a key. */
  uriOf(key: string): string {
    return pathToFileURL(this.localPath(key)).href;
  }

  async exists(uriOrPath: string): Promise<boolean> {
    try {
      await access(this.pathOf(uriOrPath));
      return true;
    } catch {
      return false;
    }
  }

  async removeAll(prefix: string): Promise<number> {
    const path = this.localPath(prefix); // the folder itself is refused there too: nothing removes all tenants at once
    let files = 0;
    try {
      files = (await readdir(path, { recursive: true, withFileTypes: true })).filter((entry) => !entry.isDirectory()).length;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
      files = 1;
    }
    await rm(path, { recursive: true, force: true });
    return files;
  }

  async read(uri: string): Promise<string> {
    return readFile(this.pathOf(uri), 'utf8');
  }

  async readBytes(uri: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.pathOf(uri)));
  }

  async putImmutable(key: string, content: string | Uint8Array): Promise<{ uri: string; sha256: string; created: boolean }> {
    const path = this.localPath(key);
    const digest = sha256(content);
    const uri = pathToFileURL(path).href;
    let existing: Buffer | null = null;
    try {
      existing = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (existing) {
      const had = sha256(existing);
      if (had !== digest)
        throw new Error(`artifact ${path} already exists with different content (sha256 ${had}, new ${digest}): artifacts are immutable`);
      return { uri, sha256: digest, created: false };
    }
    await this.write(path, content);
    return { uri, sha256: digest, created: true };
  }

  async put(key: string, content: string): Promise<{ uri: string; sha256: string }> {
    const path = this.localPath(key);
    await this.write(path, content);
    return { uri: pathToFileURL(path).href, sha256: sha256(content) };
  }

  private assertInside(path: string, what: string): void {
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
      throw new Error(`${what} points outside the artifact folder ${this.root}`);
    }
  }

  private async write(path: string, content: string | Uint8Array): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, content);
    await rename(temporary, path);
  }
}
