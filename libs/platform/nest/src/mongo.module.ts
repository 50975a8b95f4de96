import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import mongoose, { type Connection } from 'mongoose';
import { HealthRegistry } from './health/readiness';

/** The service's own MongoDB database (a mongoose Connection bound to it). */
export const MONGO_CONNECTION = Symbol('MONGO_CONNECTION');

export interface MongoModuleOptions {
  url: string;
  /** The database this service owns; no service reads another's. */
  dbName: string;
  /** How long start-up waits for the server before failing; default 10 s. */
  serverSelectionTimeoutMs?: number;
}

/** Opens one connection at start-up, registers its `mongo` readiness check (ping), closes it on shutdown. */
export async function openMongoConnection(options: MongoModuleOptions, health?: HealthRegistry): Promise<Connection> {
  const connection = await mongoose
    .createConnection(options.url, { dbName: options.dbName, serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000 })
    .asPromise();
  health?.register({
    name: 'mongo',
    check: async () => {
      const db = connection.db;
      if (!db) throw new Error('not connected');
      await db.command({ ping: 1 });
      return `database ${options.dbName}`;
    },
  });
  return connection;
}

@Injectable()
class MongoConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Mongo');
  constructor(@Inject(MONGO_CONNECTION) private readonly connection: Connection) {}

  // onApplicationShutdown runs after the HTTP server and the event transport are closed,
  // so in-flight handlers have finished with the database by now.
  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
    this.logger.log('connection closed');
  }
}

@Module({})
export class MongoModule {
  static forRoot(options: MongoModuleOptions): DynamicModule {
    return {
      module: MongoModule,
      global: true,
      providers: [
        {
          provide: MONGO_CONNECTION,
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) => openMongoConnection(options, health),
        },
        MongoConnectionCloser,
      ],
      exports: [MONGO_CONNECTION],
    };
  }
}
