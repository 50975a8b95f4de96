import type * as QdrantRest from '@qdrant/js-client-rest' with { 'resolution-mode': 'import' };
import {
  HYBRID_RRF_K,
  hybridPrefetchLimit,
  type CollectionSpec,
  type PayloadMatch,
  type VectorHit,
  type VectorIndex,
  type VectorPayload,
  type VectorQuery,
  type VectorRecord,
} from '@studio/ports';
import { z } from 'zod';
import { pointId } from './point-id';

// The package is ESM with a CommonJS build for `require`; this workspace compiles to CommonJS,
// so its types are read in import mode and its value is loaded through the `require` export.
const { QdrantClient } = require('@qdrant/js-client-rest') as typeof QdrantRest;
type QdrantClient = QdrantRest.QdrantClient;
type Schemas = QdrantRest.Schemas;

/** Names of the two vectors of every collection. */
export const DENSE_VECTOR = 'dense';
export const SPARSE_VECTOR = 'sparse';
/** Payload key that keeps our own record id (Qdrant point ids are UUIDs derived from it). */
export const RECORD_ID_KEY = '_recordId';

export interface QdrantVectorIndexOptions {
  /** e.g. http://127.0.0.1:6333 */
  url: string;
  apiKey?: string;
  /** Per-request timeout of the client, in milliseconds. */
  timeoutMs?: number;
}

/** A failed Qdrant call: the operation, the HTTP status (when there was a response) and Qdrant's message. */
export class QdrantError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`qdrant ${operation} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`, options);
    this.name = 'QdrantError';
  }
}

// The shape of the client's HTTP error (ApiError of @qdrant/openapi-typescript-fetch, not re-exported).
const apiErrorSchema = z.object({
  status: z.number(),
  statusText: z.string().optional(),
  data: z.unknown(),
});
const qdrantErrorBodySchema = z.object({ status: z.object({ error: z.string() }) });

function toQdrantError(operation: string, err: unknown): QdrantError {
  const api = apiErrorSchema.safeParse(err);
  if (api.success) {
    const body = qdrantErrorBodySchema.safeParse(api.data.data);
    const detail = body.success
      ? body.data.status.error
      : typeof api.data.data === 'string' && api.data.data
        ? api.data.data
        : api.data.statusText || 'no error message';
    return new QdrantError(operation, api.data.status, detail, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  const status = /Unexpected Response: (\d{3})/.exec(message)?.[1];
  return new QdrantError(operation, status ? Number(status) : undefined, message, { cause: err });
}

const payloadSchema = z
  .object({ tenantId: z.string(), contextId: z.string(), [RECORD_ID_KEY]: z.string() })
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]));

type Condition = Schemas['Condition'];
type Filter = Schemas['Filter'];

function matchCondition(key: string, match: PayloadMatch): Condition {
  if (typeof match !== 'object') return { key, match: { value: match } };
  const strings = match.any.filter((v): v is string => typeof v === 'string');
  const numbers = match.any.filter((v): v is number => typeof v === 'number');
  if (numbers.length === 0) return { key, match: { any: strings } };
  if (strings.length === 0) return { key, match: { any: numbers } };
  // Qdrant's `any` takes only strings or only numbers: a mixed list is one of two.
  return {
    should: [
      { key, match: { any: strings } },
      { key, match: { any: numbers } },
    ],
  };
}

function scopeFilter(tenantId: string, contextId: string, extra: Record<string, PayloadMatch> = {}): Filter {
  return {
    must: [
      { key: 'tenantId', match: { value: tenantId } },
      { key: 'contextId', match: { value: contextId } },
      ...Object.entries(extra).map(([key, match]) => matchCondition(key, match)),
    ],
  };
}

function denseSizeOf(info: Schemas['CollectionInfo']): number | undefined {
  const vectors = info.config.params.vectors;
  if (!vectors || typeof vectors !== 'object') return undefined;
  const named: unknown = (vectors as Record<string, unknown>)[DENSE_VECTOR];
  const parsed = z.object({ size: z.number() }).safeParse(named);
  return parsed.success ? parsed.data.size : undefined;
}

/**
 * VectorIndex on Qdrant. Every collection has a named dense vector (`dense`, cosine) and a named
 * sparse vector (`sparse`, plain dot product, no IDF), and keyword payload indexes on `tenantId`
 * (marked as the tenant key) and `contextId`. Every query and delete is filtered by tenant and
 * context. Hybrid queries prefetch both rankings and fuse them with RRF, parameterised so the
 * scores equal `reciprocalRankFusion(…, HYBRID_RRF_K)` of the exact in-process index.
 */
export class QdrantVectorIndex implements VectorIndex {
  readonly client: QdrantClient;

  constructor(options: QdrantVectorIndexOptions) {
    this.client = new QdrantClient({
      url: options.url,
      checkCompatibility: false,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    if (!Number.isInteger(spec.denseSize) || spec.denseSize <= 0) {
      throw new Error(`collection "${spec.name}": dense size must be a positive integer, got ${spec.denseSize}`);
    }
    const { exists } = await this.call('collection exists', () => this.client.collectionExists(spec.name));
    if (!exists) {
      try {
        await this.client.createCollection(spec.name, {
          vectors: { [DENSE_VECTOR]: { size: spec.denseSize, distance: 'Cosine' } },
          sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'none' } },
        });
      } catch (err) {
        const error = toQdrantError(`create collection "${spec.name}"`, err);
        // Created concurrently by another caller: fall through to the size check.
        if (error.status !== 409) throw error;
      }
    }
    const info = await this.call(`get collection "${spec.name}"`, () => this.client.getCollection(spec.name));
    const size = denseSizeOf(info);
    if (size !== spec.denseSize) {
      throw new Error(
        size === undefined
          ? `collection "${spec.name}" exists without a dense vector named "${DENSE_VECTOR}": it was not created by this index`
          : `collection "${spec.name}" exists with dense size ${size}, not ${spec.denseSize}: use another collection name or re-create it`,
      );
    }
    if (!info.config.params.sparse_vectors?.[SPARSE_VECTOR]) {
      throw new Error(
        `collection "${spec.name}" exists without a sparse vector named "${SPARSE_VECTOR}": it was not created by this index`,
      );
    }
    const indexes: [string, Schemas['PayloadFieldSchema']][] = [
      ['tenantId', { type: 'keyword', is_tenant: true }],
      ['contextId', 'keyword'],
    ];
    for (const [field_name, field_schema] of indexes) {
      if (info.payload_schema[field_name]) continue;
      await this.call(`create payload index "${field_name}" on "${spec.name}"`, () =>
        this.client.createPayloadIndex(spec.name, { field_name, field_schema, wait: true }),
      );
    }
  }

  async upsert(collection: string, records: VectorRecord[]): Promise<void> {
    if (records.length === 0) return;
    const points: Schemas['PointStruct'][] = records.map((record) => ({
      id: pointId(record.payload.tenantId, record.payload.contextId, record.id),
      vector: {
        [DENSE_VECTOR]: record.dense,
        ...(record.sparse ? { [SPARSE_VECTOR]: { indices: record.sparse.indices, values: record.sparse.values } } : {}),
      },
      payload: { ...record.payload, [RECORD_ID_KEY]: record.id },
    }));
    await this.call(`upsert ${points.length} points into "${collection}"`, () => this.client.upsert(collection, { wait: true, points }));
  }

  async query(collection: string, query: VectorQuery): Promise<VectorHit[]> {
    if (!Number.isInteger(query.limit) || query.limit <= 0) {
      throw new Error(`query on "${collection}": limit must be a positive integer, got ${query.limit}`);
    }
    const filter = scopeFilter(query.tenantId, query.contextId, query.filter);
    const dense = query.dense ? { query: query.dense, using: DENSE_VECTOR } : undefined;
    const sparse = query.sparse
      ? { query: { indices: query.sparse.indices, values: query.sparse.values }, using: SPARSE_VECTOR }
      : undefined;
    let request: Schemas['QueryRequest'];
    if (dense && sparse) {
      const limit = hybridPrefetchLimit(query.limit);
      request = {
        prefetch: [
          { ...dense, filter, limit },
          { ...sparse, filter, limit },
        ],
        // Qdrant scores rank r (from 0) as 1 / (k + r); reciprocalRankFusion as 1 / (K + r + 1).
        query: { rrf: { k: HYBRID_RRF_K + 1 } },
      };
    } else if (dense || sparse) {
      request = { ...(dense ?? sparse) };
    } else {
      throw new Error(`query on "${collection}": give a dense vector, a sparse vector or both`);
    }
    const response = await this.call(`query "${collection}"`, () =>
      this.client.query(collection, { ...request, filter, limit: query.limit, with_payload: true, with_vector: false }),
    );
    return response.points.map((point) => {
      const parsed = payloadSchema.safeParse(point.payload ?? {});
      if (!parsed.success) {
        throw new Error(`qdrant point ${String(point.id)} in "${collection}" has an unexpected payload: ${parsed.error.message}`);
      }
      const { [RECORD_ID_KEY]: id, ...payload } = parsed.data;
      return { id, score: point.score, payload: payload as VectorPayload };
    });
  }

  async delete(collection: string, scope: { tenantId: string; contextId: string; ids?: string[] }): Promise<void> {
    const filter = scopeFilter(scope.tenantId, scope.contextId);
    if (scope.ids) {
      if (scope.ids.length === 0) return;
      filter.must = [
        ...(Array.isArray(filter.must) ? filter.must : []),
        { has_id: scope.ids.map((id) => pointId(scope.tenantId, scope.contextId, id)) },
      ];
    }
    await this.call(`delete from "${collection}"`, () => this.client.delete(collection, { wait: true, filter }));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toQdrantError(operation, err);
    }
  }
}
