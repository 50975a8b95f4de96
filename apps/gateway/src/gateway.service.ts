import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { applicationEventBusModule, databaseModule, RedisModule, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { GATEWAY_NAME, GATEWAY_PORT, GatewayEnv } from './config';
import { ChatModule } from './chat/chat.module';
import { ContextsController } from './contexts/contexts.controller';
import { DataModule } from './data/data.module';
import { DocumentsController } from './documents/documents.controller';
import { FeedbackModule } from './feedback/feedback.module';
import { applyHttpConventions } from './http/problem-details';
import { GATEWAY_LIMITS, type GatewayLimits } from './limits';
import { RunsController } from './runs/runs.controller';
import { RunsApiModule } from './runs/runs-api.module';
import { OntologyApiModule } from './ontology/ontology.module';
import { RedTeamModule } from './redteam/red-team.module';
import { liveFeedGroupId } from './runs/run-event-hub';
import { ServiceClient } from './upstream/service-client';
import { AdminController } from './admin/admin.controller';
import { KeysModule } from './auth/keys.module';
import { OidcModule } from './oidc/oidc.module';
import { WebAppModule } from './web/web-app.module';

export type GatewayConfig = ServiceConfig<typeof GatewayEnv>;

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    // Every call carries the service credential (SERVICE_TOKEN): the services refuse calls without it.
    const upstream = new ServiceClient(
      {
        framer: config.FRAMER_URL,
        ontology: config.ONTOLOGY_URL,
        instructor: config.INSTRUCTOR_URL,
        auditor: config.AUDITOR_URL,
        'reward-model': config.REWARD_MODEL_URL,
      },
      config.SERVICE_TOKEN,
    );
    const limits: GatewayLimits = { maxDocumentBytes: config.MAX_DOCUMENT_BYTES, publishTimeoutMs: config.PUBLISH_TIMEOUT_MS };
    return {
      module: GatewayModule,
      imports: [
        // Each replica reads every training event for the live run streams of its own clients, from now on.
        applicationEventBusModule(GATEWAY_NAME, config, { groupId: liveFeedGroupId(config.KAFKA_GROUP_ID), fromBeginning: false }),
        databaseModule(GATEWAY_NAME, config),
        // The embedded profile has no Redis: its rate-limit windows are counted in memory.
        ...(config.STUDIO_PROFILE === 'distributed' ? [RedisModule.forRoot({ url: config.REDIS_URL })] : []),
        KeysModule.forRoot({
          adminApiKey: config.ADMIN_API_KEY ?? null,
          storage: config.STUDIO_PROFILE === 'distributed' ? 'servers' : 'embedded',
          rateLimitNamespace: config.KAFKA_TOPIC_PREFIX,
          rateLimits: {
            chat: config.RATE_LIMIT_CHAT_PER_MINUTE,
            uploads: config.RATE_LIMIT_UPLOADS_PER_MINUTE,
            runs: config.RATE_LIMIT_RUNS_PER_MINUTE,
          },
        }),
        OidcModule.forRoot(config),
        ChatModule.forRoot(config, upstream),
        DataModule.forRoot(upstream),
        FeedbackModule.forRoot({ publishTimeoutMs: config.PUBLISH_TIMEOUT_MS }, upstream),
        RedTeamModule.forRoot(upstream),
        OntologyApiModule.forRoot(upstream),
        RunsApiModule.forRoot({ heartbeatMs: config.RUN_EVENTS_HEARTBEAT_MS, resyncMs: config.RUN_EVENTS_RESYNC_MS }, upstream),
        // The app fetches the OIDC token endpoint itself (the provider's origin): its content security policy allows it.
        WebAppModule.forRoot({ root: config.WEB_DIST, connectSources: config.OIDC_ISSUER ? [new URL(config.OIDC_ISSUER).origin] : [] }),
      ],
      controllers: [ContextsController, DocumentsController, RunsController, AdminController],
      providers: [
        { provide: GATEWAY_LIMITS, useValue: limits },
        { provide: ServiceClient, useValue: upstream },
      ],
    };
  }
}

/** OpenAPI document at /docs (UI) and /docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Alignment Studio API')
      .setDescription(
        'Public API of Alignment Studio: contexts, policy documents, dataset versions, training runs and audit reports. Every request carries a credential (Authorization: Bearer with an API key or an OIDC access token), which names its tenant and role. The gateway validates requests, publishes document uploads to Kafka, and forwards the rest to the service that owns the data (framer, instructor, auditor, reward-model).',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

export const gatewayService: ServiceDefinition<typeof GatewayEnv> = {
  name: GATEWAY_NAME,
  defaultPort: GATEWAY_PORT,
  env: GatewayEnv,
  module: (config) => GatewayModule.forRoot(config),
  dependencies: (config) => ({
    FRAMER_URL: config.FRAMER_URL,
    ONTOLOGY_URL: config.ONTOLOGY_URL,
    INSTRUCTOR_URL: config.INSTRUCTOR_URL,
    AUDITOR_URL: config.AUDITOR_URL,
    REWARD_MODEL_URL: config.REWARD_MODEL_URL,
  }),
  configureHttp: (app, config) => {
    // JSON bodies up to the document limit base64-encoded (4/3), plus room for the other fields and JSON escaping.
    (app as NestExpressApplication).useBodyParser('json', { limit: Math.ceil(config.MAX_DOCUMENT_BYTES * 1.4) + 16 * 1024 });
    applyHttpConventions(app);
    setUpOpenApi(app);
  },
};
