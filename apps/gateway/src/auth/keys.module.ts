import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { MongoDatabase } from '@studio/mongo';
import { EMBEDDED_STORE, MONGO_DATABASE, REDIS_CONNECTION } from '@studio/nest';
import type { SqliteStore } from '@studio/inproc';
import type { Redis } from 'ioredis';
import { ADMIN_SETTINGS, type AdminSettings } from '../admin/admin.controller';
import { ApiKeyService } from './api-key.service';
import { API_KEY_STORE, MemoryApiKeyStore, MongoApiKeyStore } from './api-keys';
import { AUDIT_LOG_STORE, AuditLog, MemoryAuditLogStore, MongoAuditLogStore } from './audit-log';
import { AuthGuard } from './auth.guard';
import { SqliteApiKeyStore, SqliteAuditLogStore } from './embedded-stores';
import { KeysController } from './keys.controller';
import { MemoryRateCounter, RATE_COUNTER, RATE_LIMITS, RedisRateCounter, type RateLimits } from './rate-limit';

export interface KeysModuleOptions {
  /** The platform administration key (x-admin-key); null: the administration endpoints answer 404. */
  adminApiKey: string | null;
  rateLimits: RateLimits;
  /**
   * Where keys, the audit log and the rate-limit windows live: `servers` — the gateway's MongoDB
   * (MONGO_DATABASE of MongoModule) and Redis (REDIS_CONNECTION of RedisModule), shared by every
   * replica; `embedded` — keys and the audit log in the gateway's SQLite database (EMBEDDED_STORE
   * of the embedded profile's database module), rate-limit windows in memory; `memory` — this
   * process only (unit tests).
   */
  storage: 'servers' | 'embedded' | 'memory';
  /**
   * Put in the Redis keys of the rate-limit windows (after `studio:ratelimit:`) and of the tenants'
   * API-key generations (after `studio:keygen:`), so that gateways
   * of different environments sharing one Redis count apart: the environment's topic prefix.
   */
  rateLimitNamespace?: string;
}

function storageProviders(options: KeysModuleOptions): Provider[] {
  if (options.storage === 'memory')
    return [
      { provide: API_KEY_STORE, useValue: new MemoryApiKeyStore() },
      { provide: AUDIT_LOG_STORE, useValue: new MemoryAuditLogStore() },
      { provide: RATE_COUNTER, useValue: new MemoryRateCounter() },
    ];
  if (options.storage === 'embedded')
    return [
      { provide: API_KEY_STORE, inject: [EMBEDDED_STORE], useFactory: (store: SqliteStore) => new SqliteApiKeyStore(store.db) },
      { provide: AUDIT_LOG_STORE, inject: [EMBEDDED_STORE], useFactory: (store: SqliteStore) => new SqliteAuditLogStore(store.db) },
      { provide: RATE_COUNTER, useValue: new MemoryRateCounter() },
    ];
  return [
    {
      provide: API_KEY_STORE,
      inject: [MONGO_DATABASE],
      useFactory: async (database: MongoDatabase) => {
        const store = new MongoApiKeyStore(database);
        await store.ensureIndexes();
        return store;
      },
    },
    {
      provide: AUDIT_LOG_STORE,
      inject: [MONGO_DATABASE],
      useFactory: async (database: MongoDatabase) => {
        const store = new MongoAuditLogStore(database);
        await store.ensureIndexes();
        return store;
      },
    },
    {
      provide: RATE_COUNTER,
      inject: [REDIS_CONNECTION],
      useFactory: (redis: Redis) =>
        new RedisRateCounter(
          redis,
          `studio:ratelimit:${options.rateLimitNamespace ?? ''}`,
          `studio:keygen:${options.rateLimitNamespace ?? ''}`,
        ),
    },
  ];
}

/**
 * Identity and access at the gateway: the global AuthGuard (APP_GUARD), API keys, the keys and
 * audit-log API, and per-tenant rate limits. Global: any module may inject AuditLog (to record
 * approvals, deployments...) and ApiKeyService. OIDC: provide BEARER_TOKEN_VERIFIER from a global
 * module and the guard uses it.
 */
@Module({})
export class KeysModule {
  static forRoot(options: KeysModuleOptions): DynamicModule {
    return {
      module: KeysModule,
      global: true,
      controllers: [KeysController],
      providers: [
        ...storageProviders(options),
        { provide: ADMIN_SETTINGS, useValue: { apiKey: options.adminApiKey } satisfies AdminSettings },
        { provide: RATE_LIMITS, useValue: options.rateLimits },
        AuditLog,
        ApiKeyService,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AuditLog, ApiKeyService, ADMIN_SETTINGS, API_KEY_STORE, AUDIT_LOG_STORE],
    };
  }
}
