import type { FactoryProvider } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import type { Entity, EntitySpec, Repository } from '@studio/ports';
import { MONGO_DATABASE } from './mongo.module';

/** A provider of the repository of `spec` in the service's own database, its indexes ensured at start-up. */
export function repositoryProvider<T extends Entity>(token: symbol, spec: EntitySpec<T>): FactoryProvider<Repository<T>> {
  return {
    provide: token,
    inject: [MONGO_DATABASE],
    useFactory: async (database: MongoDatabase) => {
      const repository = database.repository(spec);
      await repository.ensureIndexes();
      return repository;
    },
  };
}
