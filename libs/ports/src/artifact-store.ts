/** Immutable, content-checked artifacts (documents, dataset files, reports) addressed by key. */
export interface ArtifactStore {
  /**
   * Writes `content` under `key` once. Writing the same content again is a no-op (`created`
   * false); different content under an existing key is an error (artifacts are immutable).
   */
  putImmutable(key: string, content: string | Uint8Array): Promise<{ uri: string; sha256: string; created: boolean }>;
  /** Writes `content` under `key`, replacing what was there (reports of a re-run audit). */
  put(key: string, content: string): Promise<{ uri: string; sha256: string }>;
  read(uri: string): Promise<string>;
  /** The artifact's bytes, as written (original documents need not be UTF-8 text). */
  readBytes(uri: string): Promise<Uint8Array>;
  /** Whether an artifact (by uri or local path) exists. */
  exists(uriOrPath: string): Promise<boolean>;
  /** Deletes every artifact under `prefix` (a tenant's data, on erasure); returns how many files went. */
  removeAll(prefix: string): Promise<number>;
  /** A folder a local process (the model runtime) can write into, e.g. a training run's output. */
  localPath(key: string): string;
  /** The path under which a local process (the model runtime) reads the artifact at `uri`. */
  pathOf(uri: string): string;
}

/** The key of a tenant's artifact: everything a tenant owns lies under one prefix, which erasure removes. */
export function tenantKey(tenant: string, key: string): string {
  return `tenants/${tenant}/${key}`;
}
