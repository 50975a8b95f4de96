import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArtifactStore } from '@studio/pipeline';

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Artifacts as files under one root folder (the embedded profile's data folder), addressed by
 * `file://` URIs. Writes go to a temporary file first and are renamed into place.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  localPath(key: string): string {
    const path = normalize(join(this.root, key));
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
      throw new Error(`artifact key "${key}" points outside ${this.root}`);
    }
    return path;
  }

  pathOf(uri: string): string {
    if (uri.startsWith('file:')) return fileURLToPath(uri);
    if (isAbsolute(uri)) return uri;
    throw new Error(`artifact uri "${uri}" is neither a file:// URI nor an absolute path`);
  }

  async exists(uriOrPath: string): Promise<boolean> {
    try {
      await access(this.pathOf(uriOrPath));
      return true;
    } catch {
      return false;
    }
  }

  async read(uri: string): Promise<string> {
    return readFile(this.pathOf(uri), 'utf8');
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
      if (had !== digest) throw new Error(`artifact ${path} already exists with different content (sha256 ${had}, new ${digest}): artifacts are immutable`);
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

  private async write(path: string, content: string | Uint8Array): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, content);
    await rename(temporary, path);
  }
}
