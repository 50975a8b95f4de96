import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { driftWindowOf } from '@studio/auditing';
import { CHAT_CONVERSATION_SAMPLED_V1, SCORE_DRIFT_JOB, type ChatConversationSampledV1, type CloudEvent } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type JobQueue, type Repository } from '@studio/ports';
import { EVALUATION_QUEUE_PORT } from '../audits/request-audit';
import { CHAT_SAMPLES_REPOSITORY, driftJobId, type ChatSample } from './drift-records';
import { DRIFT_SETTINGS, type DriftSettings } from './drift-settings';

/** Attempts of a window's scoring (a failure to read the report or reach the reward model is retried). */
export const DRIFT_JOB_ATTEMPTS = 5;

/**
 * Stores each sampled conversation (chat.conversation.sampled.v1) under its drift window and makes
 * sure the window's `score-drift` job exists: delayed to the window's end plus DRIFT_SETTLE_MS, its
 * job id naming tenant, deployment and window, so that every sample of the window — on whichever
 * replica, redelivered or not — leads to one job, which one worker runs.
 */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class SamplesHandler {
  private readonly logger = new Logger(SamplesHandler.name);

  constructor(
    @Inject(CHAT_SAMPLES_REPOSITORY) private readonly samples: Repository<ChatSample>,
    // The auditor's job producer (any queue: here the `drift` queue).
    @Inject(EVALUATION_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(DRIFT_SETTINGS) private readonly settings: DriftSettings,
  ) {}

  @EventPattern(CHAT_CONVERSATION_SAMPLED_V1)
  async onConversationSampled(@Payload() event: CloudEvent<ChatConversationSampledV1>): Promise<void> {
    const tenant = tenantId(event.tenantid);
    const { version: _version, ...data } = event.data;
    const window = driftWindowOf(new Date(data.sampledAt), this.settings.windowMs);
    const windowFrom = window.from.toISOString();
    await this.samples.upsert(tenant, {
      ...data,
      id: data.conversationId,
      windowFrom,
      eventId: event.id,
      storedAt: new Date().toISOString(),
    });
    const delayMs = Math.max(0, window.to.getTime() + this.settings.settleMs - Date.now());
    await this.queue.enqueue(
      SCORE_DRIFT_JOB,
      {
        schema_version: 'v1',
        tenant_id: tenant,
        context_id: data.contextId,
        deployment_id: data.deploymentId,
        window_from: windowFrom,
        window_to: window.to.toISOString(),
      },
      { jobId: driftJobId(tenant, data.deploymentId, windowFrom), delayMs, attempts: DRIFT_JOB_ATTEMPTS, backoffMs: 5_000 },
    );
    this.logger.debug({ msg: 'chat sample stored', tenantId: tenant, deploymentId: data.deploymentId, windowFrom });
  }
}
