import { Module, type DynamicModule } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import type { MongoDatabase } from '@studio/mongo';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  MONGO_DATABASE,
  provideEventPublisher,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { DatasetVersionRecord } from '@studio/pipeline';
import type { Entity, EntitySpec } from '@studio/ports';
import { ClausesController } from './clauses/clauses.controller';
import { CLAUSES, CLAUSES_REPOSITORY } from './clauses/framed-clause';
import { FRAMER_NAME, FRAMER_PORT, FramerEnv } from './config';
import { CONTEXTS, CONTEXTS_REPOSITORY } from './contexts/context-settings';
import { ContextsController } from './contexts/contexts.controller';
import { DatasetsController } from './datasets/datasets.controller';
import { DATASETS_REPOSITORY, GenerateDatasetVersion } from './datasets/generate-dataset-version';
import { DocumentsController } from './documents/documents.controller';
import { DocumentEventsHandler } from './documents/documents.handler';
import { DOCUMENT_ARTIFACTS, FrameUploadedDocument } from './documents/frame-uploaded-document';
import { POLICY_DOCUMENTS } from './documents/policy-document';
import { DOCUMENTS, RecordUploadedDocument } from './documents/record-uploaded-document';

export type FramerConfig = ServiceConfig<typeof FramerEnv>;

/** A provider of the repository of `spec` in the service's own database, its indexes ensured. */
function repositoryProvider<T extends Entity>(token: symbol, spec: EntitySpec<T>) {
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

@Module({})
export class FramerModule {
  static forRoot(config: FramerConfig): DynamicModule {
    const artifacts = new FileArtifactStore(config.STUDIO_ARTIFACT_DIR);
    return {
      module: FramerModule,
      imports: eventServiceModules(FRAMER_NAME, config),
      controllers: [ContextsController, DocumentsController, ClausesController, DatasetsController, DocumentEventsHandler],
      providers: [
        ...provideEventPublisher(`/studio/${FRAMER_NAME}`),
        repositoryProvider(DOCUMENTS, POLICY_DOCUMENTS),
        repositoryProvider(CLAUSES_REPOSITORY, CLAUSES),
        repositoryProvider(CONTEXTS_REPOSITORY, CONTEXTS),
        repositoryProvider(DATASETS_REPOSITORY, {
          collection: 'dataset_versions',
          schema: DatasetVersionRecord,
          indexes: [{ fields: { contextId: 1 } }],
        }),
        { provide: DOCUMENT_ARTIFACTS, useValue: artifacts },
        RecordUploadedDocument,
        FrameUploadedDocument,
        GenerateDatasetVersion,
      ],
    };
  }
}

export const framerService: ServiceDefinition<typeof FramerEnv> = {
  name: FRAMER_NAME,
  defaultPort: FRAMER_PORT,
  env: FramerEnv,
  module: (config) => FramerModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
