import type { FactoryProvider } from '@nestjs/common';
import type { Entity, EntitySpec, Repository } from '@studio/ports';
import { REPOSITORY_SOURCE, type RepositorySource } from './platform';

/**
 * A provider of the repository of `spec` in the service's own database (MongoDB, or SQLite on
 * the embedded profile), its indexes ensured at start-up.
 */
export function repositoryProvider<T extends Entity>(token: symbol, spec: EntitySpec<T>): FactoryProvider<Promise<Repository<T>>> {
  return {
    provide: token,
    inject: [REPOSITORY_SOURCE],
    useFactory: (source: RepositorySource) => source.repository(spec),
  };
}
