import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { HttpRewardScorer, LoraAdapterLoader, OpenAiCompatibleClient } from '@studio/llm';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  JOB_PLATFORM,
  JobsModule,
  vectorIndexOf,
  type JobPlatform,
  repositoryProvider,
  TENANT_DATA_ERASER,
  TenantDataController,
  type ServiceConfig,
  type ServiceDefinition,
  type TenantDataEraser,
} from '@studio/nest';
import { AUDIT_RUNS, eraseTenantData } from '@studio/pipeline';
import type { Entity, JobQueue, Repository } from '@studio/ports';
import { AUDITOR_NAME, AUDITOR_PORT, AuditorEnv } from './config';
import { AUDIT_JOBS_OPTIONS, AuditJobs } from './audits/audit-jobs';
import { ConfigError } from '@studio/config';
import { parseDriftMargins, type DriftMargins } from '@studio/auditing';
import { AUDIT_RETRY, AUDIT_SETTINGS, auditRetryProblem, type AuditRetry, type AuditSettings } from './audits/audit-settings';
import { FRAMER_CLIENT, FramerClient } from './audits/framer-client';
import { INSTRUCTOR_CLIENT, InstructorClient } from './audits/instructor-client';
import { ReportsController } from './audits/reports.controller';
import { RevisionsHandler } from './audits/revisions.handler';
import { EVALUATION_QUEUE_PORT, RequestAudit } from './audits/request-audit';
import { adaptiveSettingsOf, attackerOf } from './audits/attacker';
import { AUDIT_PORTS, AUDITS_REPOSITORY, RunAudit, type AuditServicePorts } from './audits/run-audit';
import { AUDIT_CANDIDATES, AUDIT_CANDIDATES_REPOSITORY } from './candidates/audit-candidate';
import { CandidatesHandler } from './candidates/candidates.handler';
import { CompareController } from './compare/compare.controller';
import { CHAT_SAMPLES, CHAT_SAMPLES_REPOSITORY, DRIFT_WINDOWS, DRIFT_WINDOWS_REPOSITORY } from './drift/drift-records';
import { DriftController } from './drift/drift.controller';
import { DriftJobs } from './drift/drift-jobs';
import { DRIFT_SETTINGS, type DriftSettings } from './drift/drift-settings';
import { SamplesHandler } from './drift/samples.handler';
import { ScoreDrift } from './drift/score-drift';
import { GeneratedAttacks } from './redteam/generated-attacks';
import {
  ATTACK_SOURCE,
  RED_TEAM_FINDINGS,
  RED_TEAM_FINDINGS_REPOSITORY,
  RED_TEAM_TRIALS,
  RED_TEAM_TRIALS_REPOSITORY,
} from './redteam/red-team';
import { RedTeamController } from './redteam/red-team.controller';

export type AuditorConfig = ServiceConfig<typeof AuditorEnv>;

@Injectable()
class EvaluationQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(EVALUATION_QUEUE_PORT) private readonly queue: JobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

@Module({})
export class AuditorModule {
  static forRoot(config: AuditorConfig): DynamicModule {
    // The adaptive attacker, when one is configured (a half-configured one is refused, naming the variable).
    const attacker = attackerOf(config, AUDITOR_NAME);
    const settings: AuditSettings = {
      maxItems: config.AUDIT_MAX_ITEMS,
      ragTopK: config.AUDIT_RAG_TOP_K,
      maxTokens: config.AUDIT_MAX_TOKENS,
      concurrency: config.AUDIT_CONCURRENCY,
      maxAttacks: config.AUDIT_MAX_ATTACKS,
      maxBenign: config.AUDIT_MAX_BENIGN,
      ...(config.AUDIT_MAX_GENERAL_ABILITY === undefined ? {} : { maxGeneralAbility: config.AUDIT_MAX_GENERAL_ABILITY }),
      ...adaptiveSettingsOf(config, attacker),
    };
    const retry: AuditRetry = { attempts: config.AUDIT_ATTEMPTS, delayMs: config.AUDIT_RETRY_DELAY_MS };
    const retryProblem = auditRetryProblem(retry);
    if (retryProblem) throw new ConfigError([{ variable: 'AUDIT_ATTEMPTS', problem: retryProblem }], AUDITOR_NAME);
    let margins: DriftMargins;
    try {
      margins = parseDriftMargins(config.DRIFT_MARGINS);
    } catch (error) {
      throw new ConfigError([{ variable: 'DRIFT_MARGINS', problem: (error as Error).message }], AUDITOR_NAME);
    }
    const drift: DriftSettings = {
      windowMs: config.DRIFT_WINDOW_MS,
      settleMs: config.DRIFT_SETTLE_MS,
      minSamples: config.DRIFT_MIN_SAMPLES,
      margins,
    };
    const ports: AuditServicePorts = {
      llm: new OpenAiCompatibleClient({
        baseUrl: config.LLM_BASE_URL,
        timeoutMs: 600_000,
        ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
      }),
      vectors: vectorIndexOf(config),
      embeddingModel: config.EMBEDDING_MODEL,
      artifacts: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR),
      adapters: new LoraAdapterLoader(config.LLM_BASE_URL, config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
      rewards: new HttpRewardScorer({ baseUrl: config.LLM_BASE_URL, ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}) }),
      ...(attacker ? { attacker } : {}),
    };
    const framer = new FramerClient(config.FRAMER_URL, config.SERVICE_TOKEN);
    return {
      module: AuditorModule,
      imports: [...eventServiceModules(AUDITOR_NAME, config), JobsModule.forRoot(config)],
      controllers: [
        CandidatesHandler,
        RevisionsHandler,
        ReportsController,
        CompareController,
        RedTeamController,
        SamplesHandler,
        DriftController,
        TenantDataController,
      ],
      providers: [
        repositoryProvider(AUDIT_CANDIDATES_REPOSITORY, AUDIT_CANDIDATES),
        repositoryProvider(AUDITS_REPOSITORY, AUDIT_RUNS),
        repositoryProvider(RED_TEAM_TRIALS_REPOSITORY, RED_TEAM_TRIALS),
        repositoryProvider(RED_TEAM_FINDINGS_REPOSITORY, RED_TEAM_FINDINGS),
        repositoryProvider(CHAT_SAMPLES_REPOSITORY, CHAT_SAMPLES),
        repositoryProvider(DRIFT_WINDOWS_REPOSITORY, DRIFT_WINDOWS),
        {
          provide: TENANT_DATA_ERASER,
          inject: [
            AUDIT_CANDIDATES_REPOSITORY,
            AUDITS_REPOSITORY,
            RED_TEAM_TRIALS_REPOSITORY,
            RED_TEAM_FINDINGS_REPOSITORY,
            CHAT_SAMPLES_REPOSITORY,
            DRIFT_WINDOWS_REPOSITORY,
          ],
          useFactory: (
            candidates: Repository<Entity>,
            audits: Repository<Entity>,
            redTeamTrials: Repository<Entity>,
            redTeamFindings: Repository<Entity>,
            chatSamples: Repository<Entity>,
            driftWindows: Repository<Entity>,
          ): TenantDataEraser => ({
            erase: (tenant) =>
              eraseTenantData(
                { repos: { candidates, audits, redTeamTrials, redTeamFindings, chatSamples, driftWindows }, artifacts: ports.artifacts },
                tenant,
              ),
          }),
        },
        { provide: DRIFT_SETTINGS, useValue: drift },
        { provide: AUDIT_SETTINGS, useValue: settings },
        { provide: AUDIT_RETRY, useValue: retry },
        { provide: AUDIT_PORTS, useValue: ports },
        { provide: FRAMER_CLIENT, useValue: framer },
        { provide: ATTACK_SOURCE, useValue: new GeneratedAttacks(framer) },
        { provide: INSTRUCTOR_CLIENT, useValue: new InstructorClient(config.INSTRUCTOR_URL, config.SERVICE_TOKEN) },
        { provide: EVALUATION_QUEUE_PORT, inject: [JOB_PLATFORM], useFactory: (jobs: JobPlatform) => jobs.queue() },
        EvaluationQueueCloser,
        { provide: AUDIT_JOBS_OPTIONS, useValue: { concurrency: 1 } },
        RequestAudit,
        RunAudit,
        AuditJobs,
        ScoreDrift,
        DriftJobs,
      ],
    };
  }
}

export const auditorService: ServiceDefinition<typeof AuditorEnv> = {
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: AUDITOR_NAME,
  defaultPort: AUDITOR_PORT,
  env: AuditorEnv,
  module: (config) => AuditorModule.forRoot(config),
  dependencies: (config) => ({
    LLM_BASE_URL: config.LLM_BASE_URL,
    ...(config.STUDIO_PROFILE === 'distributed' ? { QDRANT_URL: config.QDRANT_URL } : {}),
    FRAMER_URL: config.FRAMER_URL,
    INSTRUCTOR_URL: config.INSTRUCTOR_URL,
  }),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
