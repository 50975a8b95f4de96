import { Module, type DynamicModule } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import { EVENT_BUS, EventBusServer, eventServiceModules, MONGO_DATABASE, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { ONTOLOGY_NAME, ONTOLOGY_PORT, OntologyEnv } from './config';
import { FRAMED_SOURCES } from './sources/framed-source';
import { FRAMED_SOURCES_REPOSITORY, FramedSourcesHandler } from './sources/framed-sources.handler';

export type OntologyConfig = ServiceConfig<typeof OntologyEnv>;

@Module({})
export class OntologyModule {
  static forRoot(config: OntologyConfig): DynamicModule {
    return {
      module: OntologyModule,
      imports: eventServiceModules(ONTOLOGY_NAME, config),
      controllers: [FramedSourcesHandler],
      providers: [
        {
          provide: FRAMED_SOURCES_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const sources = database.repository(FRAMED_SOURCES);
            await sources.ensureIndexes();
            return sources;
          },
        },
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
