import { Module, type DynamicModule } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import { EVENT_BUS, EventBusServer, eventServiceModules, MONGO_DATABASE, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { FRAMER_NAME, FRAMER_PORT, FramerEnv } from './config';
import { DocumentsController } from './documents/documents.controller';
import { DocumentEventsHandler } from './documents/documents.handler';
import { POLICY_DOCUMENTS } from './documents/policy-document';
import { DOCUMENTS, RecordUploadedDocument } from './documents/record-uploaded-document';

export type FramerConfig = ServiceConfig<typeof FramerEnv>;

@Module({})
export class FramerModule {
  static forRoot(config: FramerConfig): DynamicModule {
    return {
      module: FramerModule,
      imports: eventServiceModules(FRAMER_NAME, config),
      controllers: [DocumentsController, DocumentEventsHandler],
      providers: [
        {
          provide: DOCUMENTS,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const documents = database.repository(POLICY_DOCUMENTS);
            await documents.ensureIndexes();
            return documents;
          },
        },
        RecordUploadedDocument,
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
