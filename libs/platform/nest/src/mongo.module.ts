import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { connectMongo, type MongoDatabase } from '@studio/mongo';
import { HealthRegistry } from './health/readiness';
import { portLogger } from './port-logger';

/** The service's own MongoDB database (MongoDatabase from @studio/mongo: repositories, ping, close). */
export const MONGO_DATABASE = Symbol('MONGO_DATABASE');

export interface MongoModuleOptions {
  url: string;
  /** The database this service owns; no service reads another's. */
  dbName: string;
  /** How long start-up waits for the server before failing; default 10 s. */
  serverSelectionTimeoutMs?: number;
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

/** Connects at start-up (start-up fails, naming the server, when it cannot), `mongo` readiness check (ping), closes at shutdown. */
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
            health.register({ name: 'mongo', check: async () => (await database.ping(), `database ${database.dbName}`) });
            return database;
          },
        },
        MongoDatabaseCloser,
      ],
      exports: [MONGO_DATABASE],
    };
  }
}
