import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError, type EvaluationJobV1 } from '@studio/contracts';
import {
  auditAdapter,
  type AdapterLoader,
  type ArtifactStore,
  type AttackerPort,
  type AuditRunRecord,
  type RetrievalPorts,
} from '@studio/pipeline';
import { EVENT_BUS } from '@studio/nest';
import { tenantId, WORKER_SHUTTING_DOWN, type EventBus, type JobContext, type Repository, type RewardScorer } from '@studio/ports';
import {
  AUDIT_CANDIDATES_REPOSITORY,
  markAttemptFailed,
  markAudited,
  markRunning,
  type AuditCandidate,
} from '../candidates/audit-candidate';
import { AUDIT_RETRY, AUDIT_SETTINGS, retryDelayMs, type AuditRetry, type AuditSettings } from './audit-settings';
import { FRAMER_CLIENT, type FramerClient } from './framer-client';
import { INSTRUCTOR_CLIENT, type InstructorClient } from './instructor-client';

export const AUDITS_REPOSITORY = Symbol('AUDITS_REPOSITORY');
export const AUDITOR_SOURCE = '/studio/auditor';
export const AUDIT_PORTS = Symbol('AUDIT_PORTS');

export interface AuditServicePorts extends RetrievalPorts {
  artifacts: ArtifactStore;
  adapters: AdapterLoader;
  /** The model server's reward scoring (the context's reward model scores every answer). */
  rewards: RewardScorer;
  /** The adaptive attacker (AUDIT_ATTACKER_*), when one is configured. */
  attacker?: AttackerPort;
}

/**
 * The `evaluate-run` job: audits a trained adapter on its dataset's held-out set with the
 * pipeline's audit (base, sft — the parent adapter, for a DPO round —, aligned and aligned+RAG answers, scores, buckets, verdict against the
 * context's thresholds), stores the report (JSON and Markdown) and publishes
 * `audit.run.completed` and `audit.verdict.issued`. Dataset, clauses and thresholds are read from
 * the framer, which owns them; the context's newest reward model, when it has one, from the
 * instructor: it scores every answer (the report's reward-model compliance score). Each attempt is recorded on the candidate (running, then audited,
 * or queued for a retry / failed with the error's cause chain), which is what
 * `GET /v1/runs/{runId}/audit` shows.
 */
@Injectable()
export class RunAudit {
  private readonly logger = new Logger(RunAudit.name);

  constructor(
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    @Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(INSTRUCTOR_CLIENT) private readonly instructor: Pick<InstructorClient, 'latestRewardModel'>,
    @Inject(AUDIT_PORTS) private readonly ports: AuditServicePorts,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(AUDIT_RETRY) private readonly retry: AuditRetry,
  ) {}

  async execute(
    job: EvaluationJobV1,
    context: Pick<JobContext, 'jobId' | 'attempt' | 'signal'>,
  ): Promise<{ auditRunId: string; verdict: string }> {
    const tenant = tenantId(job.tenant_id);
    const candidate = await this.candidates.get(tenant, job.run_id);
    if (!candidate) throw new Error(`no completed training run ${job.run_id} is recorded for tenant ${tenant}`);
    const maxAttempts = candidate.maxAttempts > 0 ? candidate.maxAttempts : this.retry.attempts;
    const running = markRunning(candidate, context.attempt, context.jobId, new Date());
    await this.candidates.upsert(tenant, running);
    try {
      const [dataset, auditContext, clauses, datasetClauses, rewardModel] = await Promise.all([
        this.framer.dataset(tenant, job.context_id, job.dataset_version_id),
        this.framer.context(tenant, job.context_id),
        this.framer.clauses(tenant, job.context_id),
        this.framer.clauses(tenant, job.context_id, job.dataset_version_id),
        this.instructor.latestRewardModel(tenant, job.context_id),
      ]);
      const result = await auditAdapter(
        {
          ...this.ports,
          bus: this.bus,
          clauses: { clausesOf: async () => clauses, clausesOfDataset: async () => datasetClauses },
          audits: this.audits,
          eventSource: AUDITOR_SOURCE,
        },
        {
          tenant,
          contextId: job.context_id,
          dataset,
          adapter: {
            id: candidate.run.adapterId,
            runId: candidate.id,
            artifactDir: candidate.run.artifactUri,
            method: candidate.run.method,
            preferenceDatasetId: candidate.run.preferenceDatasetId,
          },
          // A DPO round's SFT adapter answers the sft variant beside it.
          parent: candidate.run.parentAdapter
            ? {
                id: candidate.run.parentAdapter.adapterId,
                runId: candidate.run.parentAdapter.runId,
                artifactDir: candidate.run.parentAdapter.artifactUri,
              }
            : null,
          baseModel: job.base_model,
          thresholds: auditContext.thresholds,
          settings: { ...this.settings, maxItems: job.max_items ?? this.settings.maxItems },
          createdAt: new Date().toISOString(),
          rewardModel,
          values: auditContext.values,
        },
      );
      await this.candidates.upsert(tenant, markAudited(running, result.record.id, new Date()));
      this.logger.log({
        msg: 'audit completed',
        tenantId: tenant,
        runId: candidate.id,
        auditRunId: result.record.id,
        verdict: result.report.verdict,
        rewardModel: rewardModel?.id ?? null,
        attempt: context.attempt,
        modelMs: Math.round(result.modelMs),
      });
      return { auditRunId: result.record.id, verdict: result.report.verdict };
    } catch (error) {
      const shuttingDown = context.signal.aborted && context.signal.reason === WORKER_SHUTTING_DOWN;
      const recorded = shuttingDown
        ? // The worker is stopping: the job goes back to the queue, not counted as a failure.
          { ...running, status: 'queued' as const, attempts: Math.max(0, context.attempt - 1), updatedAt: new Date().toISOString() }
        : markAttemptFailed(
            running,
            { attempt: context.attempt, maxAttempts, error, retryDelayMs: retryDelayMs(this.retry, context.attempt) },
            new Date(),
          );
      await this.candidates
        .upsert(tenant, recorded)
        .catch((writeError: unknown) =>
          this.logger.error({ msg: 'could not record the failed audit attempt', runId: candidate.id, error: describeError(writeError) }),
        );
      if (!shuttingDown)
        this.logger.warn({
          msg: recorded.status === 'failed' ? 'audit failed: no attempts left' : 'audit attempt failed: retrying',
          tenantId: tenant,
          runId: candidate.id,
          attempt: context.attempt,
          maxAttempts,
          nextAttemptAt: recorded.nextAttemptAt,
          error: describeError(error),
        });
      // The job's failure reason keeps the causes too (fetch's "fetch failed" alone says nothing).
      throw new Error(describeError(error), { cause: error });
    }
  }
}
