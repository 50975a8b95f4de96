import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Entity, EntitySpec } from '@studio/ports';
import { SqliteRepository } from './repository';

const SERVICE_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * One service's embedded database: `<dataDir>/<service>.sqlite`, on Node's built-in SQLite.
 * Each service owns its file, as each owns its MongoDB database in the distributed profile.
 */
export class SqliteStore {
  private constructor(
    readonly db: DatabaseSync,
    readonly path: string,
  ) {}

  static open(dataDir: string, service: string): SqliteStore {
    if (!SERVICE_PATTERN.test(service)) throw new Error(`invalid service name "${service}": use 1-63 letters, digits, "_" or "-"`);
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, `${service}.sqlite`);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw new Error(`cannot open the embedded database ${path}: ${(err as Error).message}`);
    }
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    return new SqliteStore(db, path);
  }

  repository<T extends Entity>(spec: EntitySpec<T>): SqliteRepository<T> {
    return new SqliteRepository(this.db, spec);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
