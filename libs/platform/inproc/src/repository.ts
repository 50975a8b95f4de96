import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import {
  EntityCodec,
  normalizeFilter,
  normalizeFindOptions,
  normalizeIndexes,
  type Entity,
  type EntitySpec,
  type Filter,
  type FindOptions,
  type Repository,
  type TenantId,
} from '@studio/ports';
import { jsonPath, toSqlOrderAndPage, toSqlWhere } from './repository-sql';

/**
 * The embedded profile's tenant-scoped repository: one SQLite table per collection holding
 * JSON documents keyed by (tenant, id), with the same validation, filters and ordering as the
 * Mongo repository (both share `@studio/ports`' repository support).
 */
export class SqliteRepository<T extends Entity> implements Repository<T> {
  readonly collection: string;
  private readonly codec: EntityCodec<T>;
  private readonly table: string;

  constructor(
    private readonly db: DatabaseSync,
    spec: EntitySpec<T>,
  ) {
    this.codec = new EntityCodec(spec);
    this.collection = this.codec.collection;
    this.table = `"${this.collection}"`;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         tenant_id TEXT NOT NULL,
         id TEXT NOT NULL,
         doc TEXT NOT NULL CHECK (json_valid(doc)),
         PRIMARY KEY (tenant_id, id)
       ) WITHOUT ROWID`,
    );
    for (const index of normalizeIndexes(this.collection, spec.indexes)) {
      const name = `"${[this.collection, 'tenant', ...index.fields.map((f) => `${f.field}_${f.direction}`)].join('_')}"`;
      const columns = index.fields.map((f) => `json_extract(doc, ${jsonPath(f.field)}) ${f.direction === 1 ? 'ASC' : 'DESC'}`);
      db.exec(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON ${this.table} (tenant_id, ${columns.join(', ')})`);
    }
  }

  async get(tenant: TenantId, id: string): Promise<T | null> {
    const row = this.db.prepare(`SELECT doc FROM ${this.table} WHERE tenant_id = ? AND id = ?`).get(tenant, id);
    return row ? this.decode(row['doc']) : null;
  }

  async find(tenant: TenantId, filter?: Filter<T>, options?: FindOptions<T>): Promise<T[]> {
    const where = toSqlWhere(tenant, normalizeFilter(this.collection, filter));
    const page = toSqlOrderAndPage(normalizeFindOptions(this.collection, options));
    const rows = this.db.prepare(`SELECT doc FROM ${this.table} WHERE ${where.sql} ${page.sql}`).all(...where.params, ...page.params);
    return rows.map((row) => this.decode(row['doc']));
  }

  async count(tenant: TenantId, filter?: Filter<T>): Promise<number> {
    const where = toSqlWhere(tenant, normalizeFilter(this.collection, filter));
    const row = this.db.prepare(`SELECT count(*) AS n FROM ${this.table} WHERE ${where.sql}`).get(...where.params);
    return Number(row?.['n'] ?? 0);
  }

  async upsert(tenant: TenantId, entity: T): Promise<void> {
    const doc = this.codec.forWrite(tenant, entity);
    this.write([[tenant, doc.id, JSON.stringify(doc)]]);
  }

  async upsertMany(tenant: TenantId, entities: T[]): Promise<void> {
    // Validate everything first: an invalid entity writes nothing.
    const rows = entities.map((entity): SQLInputValue[] => {
      const doc = this.codec.forWrite(tenant, entity);
      return [tenant, doc.id, JSON.stringify(doc)];
    });
    if (rows.length > 0) this.write(rows);
  }

  async delete(tenant: TenantId, id: string): Promise<boolean> {
    const result = this.db.prepare(`DELETE FROM ${this.table} WHERE tenant_id = ? AND id = ?`).run(tenant, id);
    return Number(result.changes) === 1;
  }

  private write(rows: SQLInputValue[][]): void {
    const statement = this.db.prepare(
      `INSERT INTO ${this.table} (tenant_id, id, doc) VALUES (?, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET doc = excluded.doc`,
    );
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const row of rows) statement.run(...row);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private decode(raw: unknown): T {
    if (typeof raw !== 'string') throw new Error(`collection "${this.collection}": stored document is not text`);
    return this.codec.fromStored(JSON.parse(raw) as Record<string, unknown>);
  }
}
