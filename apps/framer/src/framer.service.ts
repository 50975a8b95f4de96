import { Module, type DynamicModule } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  repositoryProvider,
  TENANT_DATA_ERASER,
  TenantDataController,
  type TenantDataEraser,
  providePublishing,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { CLAUSES, DATASET_VERSIONS, DOCUMENT_VERSIONS, DOCUMENTS, eraseTenantData } from '@studio/pipeline';
import type { Entity, Repository } from '@studio/ports';
import { ClausesController } from './clauses/clauses.controller';
import { FRAMER_NAME, FRAMER_PORT, FramerEnv } from './config';
import { CONTEXTS, CONTEXTS_REPOSITORY } from './contexts/context-settings';
import { ContextsController } from './contexts/contexts.controller';
import { DatasetsController } from './datasets/datasets.controller';
import { DocumentsController } from './documents/documents.controller';
import { DocumentEventsHandler } from './documents/documents.handler';
import { ARTIFACTS, CLAUSES_REPOSITORY, DATASETS_REPOSITORY, DOCUMENT_VERSIONS_REPOSITORY, DOCUMENTS_REPOSITORY } from './framer.ports';

export type FramerConfig = ServiceConfig<typeof FramerEnv>;

/** The framer: wiring of the pipeline's framing use cases (frame an upload, generate a dataset version) to MongoDB, Kafka and the artifact folder. */
@Module({})
export class FramerModule {
  static forRoot(config: FramerConfig): DynamicModule {
    return {
      module: FramerModule,
      imports: eventServiceModules(FRAMER_NAME, config),
      controllers: [
        ContextsController,
        DocumentsController,
        ClausesController,
        DatasetsController,
        DocumentEventsHandler,
        TenantDataController,
      ],
      providers: [
        ...providePublishing(`/studio/${FRAMER_NAME}`),
        repositoryProvider(DOCUMENTS_REPOSITORY, DOCUMENTS),
        repositoryProvider(DOCUMENT_VERSIONS_REPOSITORY, DOCUMENT_VERSIONS),
        repositoryProvider(CLAUSES_REPOSITORY, CLAUSES),
        repositoryProvider(CONTEXTS_REPOSITORY, CONTEXTS),
        repositoryProvider(DATASETS_REPOSITORY, DATASET_VERSIONS),
        { provide: ARTIFACTS, useValue: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR) },
        {
          provide: TENANT_DATA_ERASER,
          inject: [
            DOCUMENTS_REPOSITORY,
            DOCUMENT_VERSIONS_REPOSITORY,
            CLAUSES_REPOSITORY,
            CONTEXTS_REPOSITORY,
            DATASETS_REPOSITORY,
            ARTIFACTS,
          ],
          useFactory: (
            documents: Repository<Entity>,
            documentVersions: Repository<Entity>,
            clauses: Repository<Entity>,
            contexts: Repository<Entity>,
            datasets: Repository<Entity>,
            artifacts: FileArtifactStore,
          ): TenantDataEraser => ({
            erase: (tenant) => eraseTenantData({ repos: { documents, documentVersions, clauses, contexts, datasets }, artifacts }, tenant),
          }),
        },
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
