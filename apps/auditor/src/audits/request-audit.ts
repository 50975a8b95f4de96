import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError, EVALUATE_RUN_JOB } from '@studio/contracts';
import { auditRunIdFor } from '@studio/pipeline';
import type { JobQueue, Repository, TenantId } from '@studio/ports';
import { AUDIT_CANDIDATES_REPOSITORY, auditJobId, markQueued, markRequestFailed, type AuditCandidate } from '../candidates/audit-candidate';
import { AUDIT_RETRY, AUDIT_SETTINGS, type AuditRetry, type AuditSettings } from './audit-settings';
import { FRAMER_CLIENT, type FramerClient } from './framer-client';

export const EVALUATION_QUEUE_PORT = Symbol('EVALUATION_QUEUE_PORT');

/**
 * "Audit this trained adapter": queues an `evaluate-run` job on the `evaluation` queue, retried
 * with exponential back-off (AUDIT_ATTEMPTS, AUDIT_RETRY_DELAY_MS), and records the request on
 * the candidate. The first request's job id is the audit run id (a redelivered completion queues
 * nothing new); a re-audit's is `<audit run id>-r<n>`, n counting the requests, so a repeated
 * re-audit queues one job. The audit itself runs from the queue: durable, retried, and long
 * model calls never hold up the Kafka consumer.
 */
@Injectable()
export class RequestAudit {
  private readonly logger = new Logger(RequestAudit.name);

  constructor(
    @Inject(EVALUATION_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(AUDIT_RETRY) private readonly retry: AuditRetry,
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
  ) {}

  /** Queues a new request for the candidate's audit; returns the candidate as queued. */
  async execute(tenant: TenantId, candidate: AuditCandidate): Promise<AuditCandidate> {
    try {
      const dataset = await this.framer.dataset(tenant, candidate.contextId, candidate.run.datasetVersionId);
      const auditRunId = auditRunIdFor(candidate.id, dataset, this.settings);
      const request = candidate.requests + 1;
      const jobId = auditJobId(auditRunId, request);
      const queued = markQueued(candidate, { auditRunId, jobId, maxAttempts: this.retry.attempts, request }, new Date());
      // Recorded before the job exists, so that its first attempt's "running" cannot be overwritten.
      await this.candidates.upsert(tenant, queued);
      await this.queue.enqueue(
        EVALUATE_RUN_JOB,
        {
          schema_version: 'v1',
          tenant_id: tenant,
          context_id: candidate.contextId,
          audit_run_id: auditRunId,
          run_id: candidate.id,
          dataset_version_id: candidate.run.datasetVersionId,
          variants: candidate.run.parentAdapter ? ['base', 'sft', 'aligned', 'aligned_rag'] : ['base', 'aligned', 'aligned_rag'],
          base_model: candidate.run.baseModel,
          adapter_name: candidate.run.adapterId,
          judge_model: null,
          max_items: this.settings.maxItems,
        },
        { jobId, attempts: this.retry.attempts, backoffMs: this.retry.delayMs },
      );
      this.logger.log({
        msg: 'audit queued',
        tenantId: tenant,
        contextId: candidate.contextId,
        runId: candidate.id,
        auditRunId,
        jobId,
        request,
      });
      return queued;
    } catch (error) {
      this.logger.warn({ msg: 'could not queue the audit', tenantId: tenant, runId: candidate.id, error: describeError(error) });
      await this.candidates.upsert(tenant, markRequestFailed(candidate, error, new Date())).catch(() => undefined);
      throw error;
    }
  }
}
