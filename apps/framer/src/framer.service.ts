import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { OpenAiCompatibleClient } from '@studio/llm';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  JOB_PLATFORM,
  JobsModule,
  type JobPlatform,
  repositoryProvider,
  TENANT_DATA_ERASER,
  TenantDataController,
  type TenantDataEraser,
  providePublishing,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { CLAUSES, DATASET_VERSIONS, DOCUMENT_VERSIONS, DOCUMENTS, eraseTenantData } from '@studio/pipeline';
import type { Entity, JobQueue, Repository } from '@studio/ports';
import { ClausesController } from './clauses/clauses.controller';
import { FRAMER_NAME, FRAMER_PORT, FramerEnv } from './config';
import { CONTEXTS, CONTEXTS_REPOSITORY } from './contexts/context-settings';
import { ContextsController } from './contexts/contexts.controller';
import { DatasetBrowserController } from './datasets/dataset-browser.controller';
import { DatasetsController, DEFAULT_TEACHER_MODEL } from './datasets/datasets.controller';
import { GENERATION_QUEUE_PORT, GenerationJobs, RunGeneration, TEACHER_FACTORY, type TeacherFactory } from './datasets/generation';
import { DocumentsController } from './documents/documents.controller';
import { DocumentEventsHandler } from './documents/documents.handler';
import { ARTIFACTS, CLAUSES_REPOSITORY, DATASETS_REPOSITORY, DOCUMENT_VERSIONS_REPOSITORY, DOCUMENTS_REPOSITORY } from './framer.ports';

export type FramerConfig = ServiceConfig<typeof FramerEnv>;

@Injectable()
class GenerationQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(GENERATION_QUEUE_PORT) private readonly queue: JobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/** The teacher at TEACHER_BASE_URL (key STUDIO_TEACHER_API_KEY), one client for every model; null when unset. */
export function teacherFactory(config: Pick<FramerConfig, 'TEACHER_BASE_URL' | 'STUDIO_TEACHER_API_KEY'>): TeacherFactory {
  if (!config.TEACHER_BASE_URL) return null;
  const llm = new OpenAiCompatibleClient({
    baseUrl: config.TEACHER_BASE_URL,
    timeoutMs: 600_000,
    ...(config.STUDIO_TEACHER_API_KEY ? { apiKey: config.STUDIO_TEACHER_API_KEY } : {}),
  });
  return (model) => ({ llm, model });
}

/**
 * The framer: wiring of the pipeline's framing use cases (frame an upload, generate a dataset
 * version) to its database, the event bus and the artifact folder; dataset versions with teacher
 * synthesis go through the `generation` queue, which this service also consumes (MongoDB, Kafka and
 * BullMQ on the distributed profile, the in-process adapters on the embedded one).
 */
@Module({})
export class FramerModule {
  static forRoot(config: FramerConfig): DynamicModule {
    return {
      module: FramerModule,
      imports: [...eventServiceModules(FRAMER_NAME, config), JobsModule.forRoot(config)],
      controllers: [
        ContextsController,
        DocumentsController,
        ClausesController,
        DatasetsController,
        DatasetBrowserController,
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
        { provide: GENERATION_QUEUE_PORT, inject: [JOB_PLATFORM], useFactory: (jobs: JobPlatform) => jobs.queue() },
        GenerationQueueCloser,
        { provide: TEACHER_FACTORY, useValue: teacherFactory(config) },
        { provide: DEFAULT_TEACHER_MODEL, useValue: config.TEACHER_MODEL },
        RunGeneration,
        GenerationJobs,
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
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: FRAMER_NAME,
  defaultPort: FRAMER_PORT,
  env: FramerEnv,
  module: (config) => FramerModule.forRoot(config),
  dependencies: (config): Record<string, string> => (config.TEACHER_BASE_URL ? { TEACHER_BASE_URL: config.TEACHER_BASE_URL } : {}),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
