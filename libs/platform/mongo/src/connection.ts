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

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** One service's database: each service owns its own database name and nobody else's. */
export class MongoDatabase {
  private closed = false;

  constructor(
    readonly connection: Connection,
    readonly dbName: string,
    private readonly logger: MongoLogger,
  ) {}

  repository<T extends Entity>(spec: EntitySpec<T>): MongoRepository<T> {
    return new MongoRepository(this.connection, spec);
  }

  async ping(): Promise<void> {
    const db = this.connection.db;
    if (!db) throw new Error(`mongo database "${this.dbName}" is not connected`);
    await db.command({ ping: 1 });
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
