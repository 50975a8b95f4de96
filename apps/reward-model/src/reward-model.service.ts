import { Module, type DynamicModule } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  providePublishing,
  repositoryProvider,
  TENANT_DATA_ERASER,
  TenantDataController,
  type ServiceConfig,
  type ServiceDefinition,
  type TenantDataEraser,
} from '@studio/nest';
import { eraseTenantData } from '@studio/pipeline';
import type { Entity, Repository } from '@studio/ports';
import {
  PREFERENCE_DATASETS,
  PREFERENCES,
  RESOLUTIONS,
  type PreferenceDatasetRecord,
  type PreferenceRecord,
  type ResolutionRecord,
} from '@studio/preferences';
import { AUDITOR_CLIENT, AuditorClient } from './clients/auditor-client';
import { FRAMER_CLIENT, FramerClient } from './clients/framer-client';
import { REWARD_MODEL_NAME, REWARD_MODEL_PORT, RewardModelEnv } from './config';
import { PreferenceBook } from './preferences/preference-book';
import { PreferenceSourcesHandler } from './preferences/preference-sources.handler';
import { PreferencesController } from './preferences/preferences.controller';
import {
  ARTIFACTS,
  PREFERENCE_DATASETS_REPOSITORY,
  PREFERENCE_REPOSITORIES,
  PREFERENCES_REPOSITORY,
  RESOLUTIONS_REPOSITORY,
  type PreferenceRepositories,
} from './reward-model.ports';

export type RewardModelConfig = ServiceConfig<typeof RewardModelEnv>;

/**
 * The reward-model service: owns preferences and their aggregation. It stores people's judgements
 * (`feedback.preference.submitted`), synthetic pairs of each published dataset version and
 * model-produced pairs of each completed audit; publishes preference dataset versions weighted by
 * the context's values (`preference.dataset.published`, their TRL JSON lines in the artifact folder);
 * and serves them, with the resolutions of their conflicts, to the gateway. MongoDB and Kafka on
 * the distributed profile, its SQLite file and the in-process bus on the embedded one.
 */
@Module({})
export class RewardModelModule {
  static forRoot(config: RewardModelConfig): DynamicModule {
    const artifacts = new FileArtifactStore(config.STUDIO_ARTIFACT_DIR);
    return {
      module: RewardModelModule,
      imports: [...eventServiceModules(REWARD_MODEL_NAME, config)],
      controllers: [PreferencesController, PreferenceSourcesHandler, TenantDataController],
      providers: [
        ...providePublishing(`/studio/${REWARD_MODEL_NAME}`),
        repositoryProvider(PREFERENCES_REPOSITORY, PREFERENCES),
        repositoryProvider(RESOLUTIONS_REPOSITORY, RESOLUTIONS),
        repositoryProvider(PREFERENCE_DATASETS_REPOSITORY, PREFERENCE_DATASETS),
        {
          provide: PREFERENCE_REPOSITORIES,
          inject: [PREFERENCES_REPOSITORY, RESOLUTIONS_REPOSITORY, PREFERENCE_DATASETS_REPOSITORY],
          useFactory: (
            preferences: Repository<PreferenceRecord>,
            resolutions: Repository<ResolutionRecord>,
            preferenceDatasets: Repository<PreferenceDatasetRecord>,
          ): PreferenceRepositories => ({ preferences, resolutions, preferenceDatasets }),
        },
        { provide: ARTIFACTS, useValue: artifacts },
        { provide: FRAMER_CLIENT, useValue: new FramerClient(config.FRAMER_URL, config.SERVICE_TOKEN) },
        { provide: AUDITOR_CLIENT, useValue: new AuditorClient(config.AUDITOR_URL, config.SERVICE_TOKEN) },
        PreferenceBook,
        {
          provide: TENANT_DATA_ERASER,
          inject: [PREFERENCES_REPOSITORY, RESOLUTIONS_REPOSITORY, PREFERENCE_DATASETS_REPOSITORY],
          useFactory: (
            preferences: Repository<Entity>,
            resolutions: Repository<Entity>,
            preferenceDatasets: Repository<Entity>,
          ): TenantDataEraser => ({
            erase: (tenant) => eraseTenantData({ repos: { preferences, resolutions, preferenceDatasets }, artifacts }, tenant),
          }),
        },
      ],
    };
  }
}

export const rewardModelService: ServiceDefinition<typeof RewardModelEnv> = {
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: REWARD_MODEL_NAME,
  defaultPort: REWARD_MODEL_PORT,
  env: RewardModelEnv,
  module: (config) => RewardModelModule.forRoot(config),
  dependencies: (config) => ({ FRAMER_URL: config.FRAMER_URL, AUDITOR_URL: config.AUDITOR_URL }),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
