import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceClient } from '../upstream/service-client';
import { ContextDataController } from './data.controller';
import { DatasetDataController } from './datasets-data.controller';

/**
 * The studio's data API: contexts, documents, clauses, dataset versions and their examples, and
 * the review queue. Forwards to the framer through the gateway's ServiceClient and records review
 * decisions in the audit log (AuditLog, from the global keys module).
 */
@Module({})
export class DataModule {
  static forRoot(upstream: ServiceClient): DynamicModule {
    return {
      module: DataModule,
      controllers: [ContextDataController, DatasetDataController],
      providers: [{ provide: ServiceClient, useValue: upstream }],
    };
  }
}
