import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HYBRID_RRF_K,
  hybridPrefetchLimit,
  reciprocalRankFusion,
  sparseDot,
  type CollectionSpec,
  type PayloadMatch,
  type SparseVector,
  type VectorHit,
  type VectorIndex,
  type VectorPayload,
  type VectorQuery,
  type VectorRecord,
} from '@studio/ports';
import { z } from 'zod';

export interface ExactVectorIndexOptions {
  /** Folder for persistence (one JSON file per collection under `vector-index/`); in memory only when absent. */
  dataDir?: string;
}

const payloadValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);
const recordSchema = z.object({
  id: z.string(),
  dense: z.array(z.number()),
  sparse: z.object({ indices: z.array(z.number()), values: z.array(z.number()) }).optional(),
  payload: z.object({ tenantId: z.string(), contextId: z.string() }).catchall(payloadValueSchema),
});
const collectionFileSchema = z.object({
  name: z.string(),
  denseSize: z.number().int().positive(),
  records: z.array(recordSchema),
});
type CollectionFile = z.infer<typeof collectionFileSchema>;

interface Collection {
  spec: CollectionSpec;
  /** Keyed by tenant, context and id: one tenant's id never overwrites another's. */
  records: Map<string, VectorRecord>;
  /** Persistence writes, chained so they land in order. */
  saving: Promise<void>;
}

const COLLECTION_NAME = /^[A-Za-z0-9._-]{1,128}$/;

function scopedKey(tenantId: string, contextId: string, id: string): string {
  return JSON.stringify([tenantId, contextId, id]);
}

function matches(value: VectorPayload[string] | undefined, expected: PayloadMatch): boolean {
  if (value === undefined || value === null) return false;
  const candidates: (string | number | boolean)[] = Array.isArray(value) ? value : [value];
  if (typeof expected === 'object') return candidates.some((c) => typeof c !== 'boolean' && expected.any.includes(c));
  return candidates.includes(expected);
}

function inScope(record: VectorRecord, query: Pick<VectorQuery, 'tenantId' | 'contextId' | 'filter'>): boolean {
  const { payload } = record;
  if (payload.tenantId !== query.tenantId || payload.contextId !== query.contextId) return false;
  return Object.entries(query.filter ?? {}).every(([key, expected]) => matches(payload[key], expected));
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function ranked(hits: VectorHit[], limit: number): VectorHit[] {
  return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
}

function assertSparse(sparse: SparseVector, what: string): void {
  if (sparse.indices.length !== sparse.values.length) {
    throw new Error(`${what}: sparse vector has ${sparse.indices.length} indices but ${sparse.values.length} values`);
  }
  if (new Set(sparse.indices).size !== sparse.indices.length) throw new Error(`${what}: sparse vector has duplicate indices`);
}

/**
 * Exact in-process search for the embedded profile: cosine similarity for dense vectors, dot
 * product for sparse vectors (records without an overlapping term are not hits, as in Qdrant),
 * reciprocal rank fusion of both rankings for hybrid queries (equal scores are ordered by id;
 * Qdrant orders them its own way, so rankings with ties may fuse differently there). Every query is limited to its
 * tenant and context. With a `dataDir`, each collection is kept in a JSON file written after
 * every change (write to a temporary file, then rename).
 */
export class ExactVectorIndex implements VectorIndex {
  private readonly collections = new Map<string, Collection>();
  private readonly loading = new Map<string, Promise<Collection | undefined>>();

  constructor(private readonly options: ExactVectorIndexOptions = {}) {}

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    if (!COLLECTION_NAME.test(spec.name)) {
      throw new Error(`invalid collection name "${spec.name}": use 1-128 letters, digits, ".", "_" or "-"`);
    }
    if (!Number.isInteger(spec.denseSize) || spec.denseSize <= 0) {
      throw new Error(`collection "${spec.name}": dense size must be a positive integer, got ${spec.denseSize}`);
    }
    const existing = await this.find(spec.name);
    if (existing) {
      if (existing.spec.denseSize !== spec.denseSize) {
        throw new Error(
          `collection "${spec.name}" exists with dense size ${existing.spec.denseSize}, not ${spec.denseSize}: ` +
            'use another collection name or re-create it',
        );
      }
      return;
    }
    const created: Collection = { spec: { name: spec.name, denseSize: spec.denseSize }, records: new Map(), saving: Promise.resolve() };
    this.collections.set(spec.name, created);
    await this.persist(created);
  }

  async upsert(collection: string, records: VectorRecord[]): Promise<void> {
    const target = await this.get(collection);
    for (const record of records) {
      const what = `upsert "${record.id}" into "${collection}"`;
      if (record.dense.length !== target.spec.denseSize) {
        throw new Error(`${what}: dense vector has ${record.dense.length} dimensions, the collection ${target.spec.denseSize}`);
      }
      if (record.sparse) assertSparse(record.sparse, what);
    }
    for (const record of records) {
      const copy: VectorRecord = structuredClone(record);
      target.records.set(scopedKey(record.payload.tenantId, record.payload.contextId, record.id), copy);
    }
    await this.persist(target);
  }

  async query(collection: string, query: VectorQuery): Promise<VectorHit[]> {
    const target = await this.get(collection);
    if (!Number.isInteger(query.limit) || query.limit <= 0) {
      throw new Error(`query on "${collection}": limit must be a positive integer, got ${query.limit}`);
    }
    if (query.dense && query.dense.length !== target.spec.denseSize) {
      throw new Error(
        `query on "${collection}": dense vector has ${query.dense.length} dimensions, the collection ${target.spec.denseSize}`,
      );
    }
    if (query.sparse) assertSparse(query.sparse, `query on "${collection}"`);
    const candidates = [...target.records.values()].filter((r) => inScope(r, query));
    const hit = (r: VectorRecord, score: number): VectorHit => ({ id: r.id, score, payload: structuredClone(r.payload) });
    const denseRanking = (dense: number[], limit: number) =>
      ranked(
        candidates.map((r) => hit(r, cosine(dense, r.dense))),
        limit,
      );
    const sparseRanking = (sparse: SparseVector, limit: number) =>
      ranked(
        candidates.flatMap((r) => {
          if (!r.sparse) return [];
          const overlaps = r.sparse.indices.some((i) => sparse.indices.includes(i));
          return overlaps ? [hit(r, sparseDot(sparse, r.sparse))] : [];
        }),
        limit,
      );

    if (query.dense && query.sparse) {
      const prefetch = hybridPrefetchLimit(query.limit);
      return reciprocalRankFusion([denseRanking(query.dense, prefetch), sparseRanking(query.sparse, prefetch)], query.limit, HYBRID_RRF_K);
    }
    if (query.dense) return denseRanking(query.dense, query.limit);
    if (query.sparse) return sparseRanking(query.sparse, query.limit);
    throw new Error(`query on "${collection}": give a dense vector, a sparse vector or both`);
  }

  async delete(collection: string, scope: { tenantId: string; contextId: string; ids?: string[] }): Promise<void> {
    const target = await this.get(collection);
    if (scope.ids) {
      for (const id of scope.ids) target.records.delete(scopedKey(scope.tenantId, scope.contextId, id));
    } else {
      for (const [key, record] of target.records) {
        if (inScope(record, scope)) target.records.delete(key);
      }
    }
    await this.persist(target);
  }

  private async get(name: string): Promise<Collection> {
    const found = await this.find(name);
    if (!found) throw new Error(`collection "${name}" does not exist: call ensureCollection first`);
    return found;
  }

  private async find(name: string): Promise<Collection | undefined> {
    const cached = this.collections.get(name);
    if (cached) return cached;
    const dir = this.options.dataDir;
    if (!dir || !COLLECTION_NAME.test(name)) return undefined;
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name, this.file(dir, name));
      this.loading.set(name, pending);
    }
    try {
      return await pending;
    } finally {
      this.loading.delete(name);
    }
  }

  private async load(name: string, file: string): Promise<Collection | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = collectionFileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`vector index file ${file} is not valid: ${parsed.error.message}`);
    const data: CollectionFile = parsed.data;
    const collection: Collection = {
      spec: { name: data.name, denseSize: data.denseSize },
      records: new Map(data.records.map((r) => [scopedKey(r.payload.tenantId, r.payload.contextId, r.id), r])),
      saving: Promise.resolve(),
    };
    // Another caller may have created it while the file was read.
    const raced = this.collections.get(name);
    if (raced) return raced;
    this.collections.set(name, collection);
    return collection;
  }

  private file(dir: string, name: string): string {
    return join(dir, 'vector-index', `${name}.json`);
  }

  private persist(collection: Collection): Promise<void> {
    const dir = this.options.dataDir;
    if (!dir) return Promise.resolve();
    const write = async () => {
      const file = this.file(dir, collection.spec.name);
      const data: CollectionFile = { ...collection.spec, records: [...collection.records.values()] };
      await mkdir(join(dir, 'vector-index'), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(data));
      await rename(temporary, file);
    };
    collection.saving = collection.saving.then(write, write);
    return collection.saving;
  }
}
