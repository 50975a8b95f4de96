import type { DynamicModule, INestApplication } from '@nestjs/common';
import { ApiKeyService } from './api-key.service';
import { KeysModule, type KeysModuleOptions } from './keys.module';
import type { Role } from './permissions';

/** KeysModule with its stores in memory: the real guard, keys and audit log, for tests of gateway routes. */
export function memoryKeysModule(options: Partial<Omit<KeysModuleOptions, 'storage'>> = {}): DynamicModule {
  return KeysModule.forRoot({
    adminApiKey: options.adminApiKey ?? null,
    rateLimits: options.rateLimits ?? { chat: 0, uploads: 0, runs: 0 },
    storage: 'memory',
  });
}

/** A new API key of `tenant` with `role`, issued as the platform administrator would. */
export async function issueKey(app: INestApplication, tenant: string, role: Role = 'admin'): Promise<string> {
  return (await app.get(ApiKeyService).create(tenant, { name: `test ${role}`, role }, 'platform-admin')).key;
}

/** `Authorization: Bearer <key>`. */
export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}
