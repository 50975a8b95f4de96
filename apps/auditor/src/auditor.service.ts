import { Module, type DynamicModule } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import { EVENT_BUS, EventBusServer, eventServiceModules, MONGO_DATABASE, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { AUDITOR_NAME, AUDITOR_PORT, AuditorEnv } from './config';
import { AUDIT_CANDIDATES } from './candidates/audit-candidate';
import { AUDIT_CANDIDATES_REPOSITORY, CandidatesHandler } from './candidates/candidates.handler';

export type AuditorConfig = ServiceConfig<typeof AuditorEnv>;

@Module({})
export class AuditorModule {
  static forRoot(config: AuditorConfig): DynamicModule {
    return {
      module: AuditorModule,
      imports: eventServiceModules(AUDITOR_NAME, config),
      controllers: [CandidatesHandler],
      providers: [
        {
          provide: AUDIT_CANDIDATES_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const candidates = database.repository(AUDIT_CANDIDATES);
            await candidates.ensureIndexes();
            return candidates;
          },
        },
      ],
    };
  }
}

export const auditorService: ServiceDefinition<typeof AuditorEnv> = {
  name: AUDITOR_NAME,
  defaultPort: AUDITOR_PORT,
  env: AuditorEnv,
  module: (config) => AuditorModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
