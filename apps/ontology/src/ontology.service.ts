import { Module, type DynamicModule } from '@nestjs/common';
import { OpenAiCompatibleClient } from '@studio/llm';
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
import type { RetrievalPorts } from '@studio/pipeline';
import { QdrantVectorIndex } from '@studio/qdrant';
import { ONTOLOGY_NAME, ONTOLOGY_PORT, OntologyEnv } from './config';
import { FRAMER_CLIENT, FramerClient } from './indexing/framer-client';
import { FRAMED_SOURCES_REPOSITORY, IndexFramedDocument, RETRIEVAL_PORTS } from './indexing/index-framed-document';
import { RetrievalController } from './indexing/retrieval.controller';
import { FRAMED_SOURCES } from './sources/framed-source';
import { FramedSourcesHandler } from './sources/framed-sources.handler';

export type OntologyConfig = ServiceConfig<typeof OntologyEnv>;

@Module({})
export class OntologyModule {
  static forRoot(config: OntologyConfig): DynamicModule {
    const retrieval: RetrievalPorts = {
      llm: new OpenAiCompatibleClient({ baseUrl: config.LLM_BASE_URL, timeoutMs: 300_000 }),
      vectors: new QdrantVectorIndex({ url: config.QDRANT_URL }),
      embeddingModel: config.EMBEDDING_MODEL,
    };
    return {
      module: OntologyModule,
      imports: eventServiceModules(ONTOLOGY_NAME, config),
      controllers: [FramedSourcesHandler, RetrievalController],
      providers: [
        ...provideEventPublisher(`/studio/${ONTOLOGY_NAME}`),
        {
          provide: FRAMED_SOURCES_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const sources = database.repository(FRAMED_SOURCES);
            await sources.ensureIndexes();
            return sources;
          },
        },
        { provide: FRAMER_CLIENT, useValue: new FramerClient(config.FRAMER_URL) },
        { provide: RETRIEVAL_PORTS, useValue: retrieval },
        IndexFramedDocument,
      ],
    };
  }
}

export const ontologyService: ServiceDefinition<typeof OntologyEnv> = {
  name: ONTOLOGY_NAME,
  defaultPort: ONTOLOGY_PORT,
  env: OntologyEnv,
  module: (config) => OntologyModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
