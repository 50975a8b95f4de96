import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EvaluationJobV1 } from '@studio/contracts';
import { auditAdapter, type AdapterLoader, type ArtifactStore, type AuditRunRecord, type RetrievalPorts } from '@studio/pipeline';
import { EVENT_BUS } from '@studio/nest';
import { tenantId, type EventBus, type Repository } from '@studio/ports';
import { AUDIT_CANDIDATES_REPOSITORY } from '../candidates/candidates.handler';
import type { AuditCandidate } from '../candidates/audit-candidate';
import { AUDIT_SETTINGS, type AuditSettings } from './audit-settings';
import { FRAMER_CLIENT, type FramerClient } from './framer-client';

export const AUDITS_REPOSITORY = Symbol('AUDITS_REPOSITORY');
export const AUDITOR_SOURCE = '/studio/auditor';
export const AUDIT_PORTS = Symbol('AUDIT_PORTS');

export interface AuditServicePorts extends RetrievalPorts {
  artifacts: ArtifactStore;
  adapters: AdapterLoader;
}

/**
 * The `evaluate-run` job: audits a trained adapter on its dataset's held-out set with the
 * pipeline's audit (base, aligned and aligned+RAG answers, scores, buckets, verdict against the
 * context's thresholds), stores the report (JSON and Markdown) and publishes
 * `audit.run.completed` and `audit.verdict.issued`. Dataset, clauses and thresholds are read from
 * the framer, which owns them.
 */
@Injectable()
export class RunAudit {
  private readonly logger = new Logger(RunAudit.name);

  constructor(
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    @Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(AUDIT_PORTS) private readonly ports: AuditServicePorts,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
  ) {}

  async execute(job: EvaluationJobV1): Promise<{ auditRunId: string; verdict: string }> {
    const tenant = tenantId(job.tenant_id);
    const candidate = await this.candidates.get(tenant, job.run_id);
    if (!candidate) throw new Error(`no completed training run ${job.run_id} is recorded for tenant ${tenant}`);
    const [dataset, context, clauses] = await Promise.all([
      this.framer.dataset(tenant, job.context_id, job.dataset_version_id),
      this.framer.context(tenant, job.context_id),
      this.framer.clauses(tenant, job.context_id),
    ]);
    try {
      const result = await auditAdapter(
        { ...this.ports, bus: this.bus, clauses: { clausesOf: async () => clauses }, audits: this.audits, eventSource: AUDITOR_SOURCE },
        {
          tenant,
          contextId: job.context_id,
          dataset,
          adapter: { id: candidate.adapterId, runId: candidate.id, artifactDir: candidate.artifactUri },
          baseModel: job.base_model,
          thresholds: context.thresholds,
          settings: { ...this.settings, maxItems: job.max_items ?? this.settings.maxItems },
          createdAt: new Date().toISOString(),
        },
      );
      await this.candidates.upsert(tenant, { ...candidate, status: 'audited', auditRunId: result.record.id, error: null });
      this.logger.log({
        msg: 'audit completed',
        tenantId: tenant,
        runId: candidate.id,
        auditRunId: result.record.id,
        verdict: result.report.verdict,
        modelMs: Math.round(result.modelMs),
      });
      return { auditRunId: result.record.id, verdict: result.report.verdict };
    } catch (error) {
      await this.candidates.upsert(tenant, {
        ...candidate,
        status: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }
}
