import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { connectMongo, DEFAULT_READINESS_LIMIT_MS, type MongoDatabase } from '@studio/mongo';
import { HealthRegistry } from './health/readiness';
import { portLogger } from './port-logger';
import { mongoRepositorySource, REPOSITORY_SOURCE } from './platform';

/** The service's own MongoDB database (MongoDatabase from @studio/mongo: repositories, readiness, close). */
export const MONGO_DATABASE = Symbol('MONGO_DATABASE');

export interface MongoModuleOptions {
  url: string;
  /** The database this service owns; no service reads another's. */
  dbName: string;
  /** How long start-up waits for the server before failing; default 10 s. */
  serverSelectionTimeoutMs?: number;
  /** How long the readiness probe's reads of the service's collections may take; default 1 s. */
  readinessLimitMs?: number;
}

@Injectable()
class MongoDatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(MONGO_DATABASE) private readonly database: MongoDatabase) {}

  // onApplicationShutdown runs after the HTTP server and the event transport have closed,
  // so in-flight handlers are done with the database by now.
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * Connects at start-up (start-up fails, naming the server, when it cannot); the `mongo` readiness
 * check reads the service's own collections within a short limit (MongoDatabase.checkReady), since
 * a server can answer ping while every query of one database hangs; closes at shutdown.
 */
@Module({})
export class MongoModule {
  static forRoot(options: MongoModuleOptions): DynamicModule {
    return {
      module: MongoModule,
      global: true,
      providers: [
        {
          provide: MONGO_DATABASE,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            const database = await connectMongo(options.url, options.dbName, portLogger('Mongo'), {
              serverSelectionTimeoutMs: options.serverSelectionTimeoutMs ?? 10_000,
            });
            const limitMs = options.readinessLimitMs ?? DEFAULT_READINESS_LIMIT_MS;
            health.register({ name: 'mongo', check: () => database.checkReady(limitMs) });
            return database;
          },
        },
        { provide: REPOSITORY_SOURCE, inject: [MONGO_DATABASE], useFactory: mongoRepositorySource },
        MongoDatabaseCloser,
      ],
      exports: [MONGO_DATABASE, REPOSITORY_SOURCE],
    };
  }
}
