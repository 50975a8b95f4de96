import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVALUATE_RUN_JOB } from '@studio/contracts';
import { auditRunIdFor } from '@studio/pipeline';
import type { JobQueue, TenantId } from '@studio/ports';
import type { AuditCandidate } from '../candidates/audit-candidate';
import { AUDIT_SETTINGS, type AuditSettings } from './audit-settings';
import { FRAMER_CLIENT, type FramerClient } from './framer-client';

export const EVALUATION_QUEUE_PORT = Symbol('EVALUATION_QUEUE_PORT');

/**
 * "Audit this trained adapter": queues an `evaluate-run` job on the `evaluation` queue (job id =
 * audit run id, so a redelivered completion queues nothing new). The audit itself runs from the
 * queue: durable, retried, and long model calls never hold up the Kafka consumer.
 */
@Injectable()
export class RequestAudit {
  private readonly logger = new Logger(RequestAudit.name);

  constructor(
    @Inject(EVALUATION_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
  ) {}

  async execute(tenant: TenantId, candidate: AuditCandidate): Promise<string> {
    const dataset = await this.framer.dataset(tenant, candidate.contextId, candidate.datasetVersionId);
    const auditRunId = auditRunIdFor(candidate.id, dataset, this.settings);
    await this.queue.enqueue(
      EVALUATE_RUN_JOB,
      {
        schema_version: 'v1',
        tenant_id: tenant,
        context_id: candidate.contextId,
        audit_run_id: auditRunId,
        run_id: candidate.id,
        dataset_version_id: candidate.datasetVersionId,
        variants: ['base', 'aligned', 'aligned_rag'],
        base_model: candidate.baseModel,
        adapter_name: candidate.adapterId,
        judge_model: null,
        max_items: this.settings.maxItems,
      },
      { jobId: auditRunId, attempts: 2, backoffMs: 5_000 },
    );
    this.logger.log({ msg: 'audit queued', tenantId: tenant, contextId: candidate.contextId, runId: candidate.id, auditRunId });
    return auditRunId;
  }
}
