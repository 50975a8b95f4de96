import mongoose, { type Connection } from 'mongoose';
import type { Entity, EntitySpec, EventBusLogger } from '@studio/ports';
import { MongoRepository } from './mongo-repository';

export type MongoLogger = Pick<EventBusLogger, 'info' | 'warn' | 'error'>;

export interface MongoConnectOptions {
  /** How long to wait for a reachable server before an operation fails (default 5 s). */
  serverSelectionTimeoutMs?: number;
  connectTimeoutMs?: number;
  socketTimeoutMs?: number;
  maxPoolSize?: number;
}

const DB_NAME_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;

/** How long the readiness probe's reads may take, by default. */
export const DEFAULT_READINESS_LIMIT_MS = 1_000;
/** The most collections the probe reads when no repository named any. */
const PROBED_WHEN_UNKNOWN = 8;

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** One service's database: each service owns its own database name and nobody else's. */
export class MongoDatabase {
  private closed = false;
  /** The collections of the repositories handed out: what the service really reads and writes. */
  private readonly collections = new Set<string>();

  constructor(
    readonly connection: Connection,
    readonly dbName: string,
    private readonly logger: MongoLogger,
  ) {}

  repository<T extends Entity>(spec: EntitySpec<T>): MongoRepository<T> {
    const repository = new MongoRepository(this.connection, spec);
    this.collections.add(repository.collection);
    return repository;
  }

  /** Answers when the server does; says nothing about this database (see checkReady). */
  async ping(): Promise<void> {
    const db = this.connection.db;
    if (!db) throw new Error(`mongo database "${this.dbName}" is not connected`);
    await db.command({ ping: 1 });
  }

  /**
   * The readiness probe: reads one document of each collection of this service (those of its
   * repositories; without any, those the database has), all within `limitMs`, and rejects,
   * naming the collection, when a read fails or takes longer. A server can answer `ping` while
   * every query on one database hangs (FerretDB did, with its SQLite connections used up); this
   * probe then fails. The server is told the limit (maxTimeMS) and the probe also stops waiting
   * after it, so a read that never gets an answer fails on time as well.
   */
  async checkReady(limitMs: number = DEFAULT_READINESS_LIMIT_MS): Promise<string> {
    const db = this.connection.db;
    if (!db) throw new Error(`mongo database "${this.dbName}" is not connected`);
    const started = Date.now();
    const names =
      this.collections.size > 0
        ? [...this.collections]
        : (
            await this.bounded('listing its collections', limitMs, () =>
              db.listCollections({}, { nameOnly: true, maxTimeMS: limitMs }).toArray(),
            )
          )
            .map((c) => c.name)
            .filter((name) => !name.startsWith('system.'))
            .slice(0, PROBED_WHEN_UNKNOWN);
    await Promise.all(
      names.map((name) =>
        this.bounded(`reading collection "${name}"`, limitMs, () =>
          db
            .collection(name)
            .find({}, { projection: { _id: 1 }, limit: 1, maxTimeMS: limitMs })
            .toArray(),
        ),
      ),
    );
    const what = names.length === 1 ? '1 collection' : `${names.length} collections`;
    return `database ${this.dbName}: ${what} read in ${Date.now() - started} ms`;
  }

  private async bounded<R>(what: string, limitMs: number, read: () => Promise<R>): Promise<R> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), limitMs);
    });
    try {
      return await Promise.race([read(), late]);
    } catch (err) {
      const took = Date.now() - started;
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`mongo database "${this.dbName}": ${what} failed after ${took} ms (limit ${limitMs} ms): ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.close();
    this.logger.info('mongo connection closed', { db: this.dbName });
  }
}

/**
 * Connects to MongoDB (or FerretDB) and resolves once the server answered, or rejects with a
 * message naming the server and database. Commands are not buffered while disconnected: an
 * operation on a lost connection fails instead of hanging.
 */
export async function connectMongo(
  url: string,
  dbName: string,
  logger: MongoLogger,
  options: MongoConnectOptions = {},
): Promise<MongoDatabase> {
  if (!DB_NAME_PATTERN.test(dbName)) {
    throw new Error(`invalid mongo database name "${dbName}": use 1-63 letters, digits, "_" or "-"`);
  }
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
    connectTimeoutMS: options.connectTimeoutMs ?? 5_000,
    socketTimeoutMS: options.socketTimeoutMs ?? 30_000,
    maxPoolSize: options.maxPoolSize ?? 10,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  });
  connection.on('disconnected', () => logger.warn('mongo disconnected', { db: dbName }));
  connection.on('reconnected', () => logger.info('mongo reconnected', { db: dbName }));
  connection.on('error', (err: Error) => logger.error('mongo connection error', { db: dbName, error: err.message }));
  try {
    await connection.asPromise();
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw new Error(`cannot connect to mongo at ${redact(url)} (database "${dbName}"): ${(err as Error).message}`);
  }
  logger.info('mongo connected', { url: redact(url), db: dbName });
  return new MongoDatabase(connection, dbName, logger);
}
