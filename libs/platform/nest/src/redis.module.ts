import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { HealthRegistry } from './health/readiness';

export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

export interface RedisModuleOptions {
  url: string;
}

/**
 * One ioredis connection, connected at start-up (fails start-up when Redis is unreachable),
 * with a `redis` readiness check (PING). `maxRetriesPerRequest: null` is what BullMQ requires
 * of connections it is given.
 */
export async function openRedisConnection(options: RedisModuleOptions, health?: HealthRegistry): Promise<Redis> {
  const client = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot connect to Redis at ${new URL(options.url).host}: ${(err as Error).message}`);
  }
  health?.register({
    name: 'redis',
    check: async () => {
      if (client.status !== 'ready') throw new Error(`connection is ${client.status}`);
      const pong = await client.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
    },
  });
  return client;
}

@Injectable()
class RedisConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  constructor(@Inject(REDIS_CONNECTION) private readonly client: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.client.status !== 'end') await this.client.quit();
    this.logger.log('connection closed');
  }
}

@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS_CONNECTION,
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) => openRedisConnection(options, health),
        },
        RedisConnectionCloser,
      ],
      exports: [REDIS_CONNECTION],
    };
  }
}
