import type { AnyBulkWriteOperation, Connection, Model } from 'mongoose';
import { Schema } from 'mongoose';
import {
  EntityCodec,
  entityKey,
  normalizeFilter,
  normalizeFindOptions,
  normalizeIndexes,
  TENANT_FIELD,
  type Entity,
  type EntitySpec,
  type Filter,
  type FindOptions,
  type Repository,
  type TenantId,
} from '@studio/ports';
import { toMongoFilter, toMongoSort } from './query';

/** What a document looks like in MongoDB: the entity, plus its composite key and its tenant. */
export interface StoredDocument {
  _id: string;
  tenantId: string;
  [field: string]: unknown;
}

function modelFor(connection: Connection, collection: string): Model<StoredDocument> {
  const existing = connection.models[collection] as Model<StoredDocument> | undefined;
  if (existing) return existing;
  // Only the bookkeeping fields are declared: the entity's shape is the zod schema's business.
  // strictQuery: false keeps filters on undeclared fields (true would silently drop them);
  // id: false stops mongoose from shadowing the entity's own `id` with its virtual.
  const schema = new Schema<StoredDocument>(
    { _id: { type: String, required: true }, tenantId: { type: String, required: true } },
    { collection, id: false, strict: false, strictQuery: false, versionKey: false, autoIndex: false, autoCreate: false },
  );
  return connection.model<StoredDocument>(collection, schema);
}

/**
 * The filter that finds one entity: its stored key and nothing else. The key starts with the
 * tenant (tenant ids cannot contain "/"), so it never reaches another tenant's document. A filter
 * with `_id` alone is what FerretDB v1 turns into a lookup on its `_id` index; any second
 * condition (even the redundant tenant) makes it scan and decode the whole collection for each
 * statement, which made a bulk upsert quadratic in the collection's size.
 */
function byKey(tenant: TenantId, id: string): { _id: string } {
  return { _id: entityKey(tenant, id) };
}

/**
 * A tenant-scoped repository on MongoDB (or FerretDB). Documents are keyed by `<tenant>/<id>`, so
 * tenants may reuse entity ids and an operation on one entity goes by that key; queries filter on
 * `tenantId`. Entities are validated by their zod schema on the way in and on the way back out.
 */
export class MongoRepository<T extends Entity> implements Repository<T> {
  readonly collection: string;
  private readonly codec: EntityCodec<T>;
  private readonly model: Model<StoredDocument>;

  constructor(
    connection: Connection,
    private readonly spec: EntitySpec<T>,
  ) {
    this.codec = new EntityCodec(spec);
    this.collection = this.codec.collection;
    this.model = modelFor(connection, this.collection);
  }

  /** Creates the tenant/id index and the spec's indexes (each prefixed by the tenant). Idempotent. */
  async ensureIndexes(): Promise<void> {
    const collection = this.model.collection;
    await collection.createIndex({ [TENANT_FIELD]: 1, id: 1 }, { name: 'tenant_id' });
    for (const index of normalizeIndexes(this.collection, this.spec.indexes)) {
      const keys: Record<string, 1 | -1> = { [TENANT_FIELD]: 1 };
      for (const field of index.fields) keys[field.field] = field.direction;
      const name = ['tenant', ...index.fields.map((f) => `${f.field}_${f.direction}`)].join('_');
      await collection.createIndex(keys, { name, unique: index.unique });
    }
  }

  async get(tenant: TenantId, id: string): Promise<T | null> {
    const doc = await this.model.findOne(byKey(tenant, id)).lean<StoredDocument>().exec();
    // The key already names the tenant; the stored tenant is checked as well, never trusted alone.
    return doc && doc[TENANT_FIELD] === tenant ? this.codec.fromStored(doc) : null;
  }

  async find(tenant: TenantId, filter?: Filter<T>, options?: FindOptions<T>): Promise<T[]> {
    const query = toMongoFilter(tenant, normalizeFilter(this.collection, filter));
    const find = normalizeFindOptions(this.collection, options);
    let cursor = this.model.find(query).sort(toMongoSort(find)).skip(find.skip);
    if (find.limit !== null) {
      // limit(0) means "no limit" to MongoDB; the port means "nothing".
      if (find.limit === 0) return [];
      cursor = cursor.limit(find.limit);
    }
    const docs = await cursor.lean<StoredDocument[]>().exec();
    return docs.map((doc) => this.codec.fromStored(doc));
  }

  async count(tenant: TenantId, filter?: Filter<T>): Promise<number> {
    return this.model.countDocuments(toMongoFilter(tenant, normalizeFilter(this.collection, filter))).exec();
  }

  async upsert(tenant: TenantId, entity: T): Promise<void> {
    const { filter, replacement } = this.replacement(tenant, entity);
    await this.model.replaceOne(filter, replacement, { upsert: true }).exec();
  }

  async upsertMany(tenant: TenantId, entities: T[]): Promise<void> {
    if (entities.length === 0) return;
    // Validate everything first: an invalid entity writes nothing.
    const operations: AnyBulkWriteOperation<StoredDocument>[] = entities.map((entity) => {
      const { filter, replacement } = this.replacement(tenant, entity);
      return { replaceOne: { filter, replacement, upsert: true } };
    });
    await this.model.bulkWrite(operations, { ordered: true });
  }

  async delete(tenant: TenantId, id: string): Promise<boolean> {
    const result = await this.model.deleteOne(byKey(tenant, id)).exec();
    return result.deletedCount === 1;
  }

  private replacement(tenant: TenantId, entity: T): { filter: Record<string, unknown>; replacement: StoredDocument } {
    const doc = this.codec.forWrite(tenant, entity);
    const replacement: StoredDocument = {
      ...(doc as Entity & Record<string, unknown>),
      _id: entityKey(tenant, doc.id),
      [TENANT_FIELD]: tenant,
    };
    return { filter: byKey(tenant, doc.id), replacement };
  }
}
