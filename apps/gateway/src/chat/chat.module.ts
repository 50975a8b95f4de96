import { Module, type DynamicModule } from '@nestjs/common';
import { repositoryProvider } from '@studio/nest';
import { AuditLog } from '../auth/audit-log';
import type { GatewayEnv } from '../config';
import { ServiceClient } from '../upstream/service-client';
import { CONVERSATIONS, CURRENT_DEPLOYMENTS, DEPLOYMENT_HISTORY } from './chat-schemas';
import { CHAT_SETTINGS, ChatService, CONVERSATIONS_REPOSITORY, type ChatSettings } from './chat.service';
import { ChatController } from './chat.controller';
import { DEPLOYMENT_CACHE_SETTINGS, type DeploymentCacheSettings } from './deployment-cache';
import { CURRENT_DEPLOYMENTS_REPOSITORY, DEPLOYMENT_AUDIT_LOG, DEPLOYMENT_HISTORY_REPOSITORY, Deployments } from './deployments';
import { DeploymentsController } from './deployments.controller';
import { MODEL_SERVER, ModelServer } from './model-server';

export type ChatConfig = Pick<
  GatewayEnv,
  | 'LLM_BASE_URL'
  | 'LLM_API_KEY'
  | 'CHAT_SAMPLE_RATE'
  | 'CHAT_RETRIEVAL_K'
  | 'CHAT_MAX_TOKENS'
  | 'CHAT_TIMEOUT_MS'
  | 'CHAT_DEPLOYMENT_CACHE_MS'
>;

/**
 * Deployments and the OpenAI-compatible chat with the deployed adapters. Its records live in the
 * gateway's MongoDB (MONGO_DATABASE); deployments are written to the gateway's audit log.
 */
@Module({})
export class ChatModule {
  static forRoot(config: ChatConfig, upstream: ServiceClient): DynamicModule {
    const settings: ChatSettings = {
      retrievalK: config.CHAT_RETRIEVAL_K,
      defaultMaxTokens: config.CHAT_MAX_TOKENS,
      sampleRate: config.CHAT_SAMPLE_RATE,
    };
    return {
      module: ChatModule,
      controllers: [ChatController, DeploymentsController],
      providers: [
        { provide: CHAT_SETTINGS, useValue: settings },
        { provide: DEPLOYMENT_CACHE_SETTINGS, useValue: { maxAgeMs: config.CHAT_DEPLOYMENT_CACHE_MS } satisfies DeploymentCacheSettings },
        {
          provide: MODEL_SERVER,
          useValue: new ModelServer({
            baseUrl: config.LLM_BASE_URL ?? null,
            ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
            timeoutMs: config.CHAT_TIMEOUT_MS,
          }),
        },
        repositoryProvider(DEPLOYMENT_HISTORY_REPOSITORY, DEPLOYMENT_HISTORY),
        repositoryProvider(CURRENT_DEPLOYMENTS_REPOSITORY, CURRENT_DEPLOYMENTS),
        repositoryProvider(CONVERSATIONS_REPOSITORY, CONVERSATIONS),
        { provide: ServiceClient, useValue: upstream },
        { provide: DEPLOYMENT_AUDIT_LOG, useExisting: AuditLog },
        Deployments,
        ChatService,
      ],
    };
  }
}
