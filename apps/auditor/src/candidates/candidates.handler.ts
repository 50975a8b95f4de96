import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TRAINING_RUN_COMPLETED_V1, type CloudEvent, type TrainingRunCompletedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { RequestAudit } from '../audits/request-audit';
import { AUDIT_CANDIDATES_REPOSITORY, candidateFromCompletedRun, type AuditCandidate } from './audit-candidate';

export { AUDIT_CANDIDATES_REPOSITORY };

/** Records every completed sft or dpo run as a candidate and queues its release-gate audit (reward models are not audited). */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class CandidatesHandler {
  private readonly logger = new Logger(CandidatesHandler.name);

  constructor(
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    private readonly requestAudit: RequestAudit,
  ) {}

  @EventPattern(TRAINING_RUN_COMPLETED_V1)
  async onTrainingRunCompleted(@Payload() event: CloudEvent<TrainingRunCompletedV1>): Promise<void> {
    const tenant = tenantId(event.tenantid);
    // A reward model scores answers, it does not give them: it has no release-gate audit of its own.
    if (event.data.method === 'reward') {
      this.logger.log({ msg: 'reward model completed: not an audit candidate', tenantId: event.tenantid, runId: event.data.runId });
      return;
    }
    const existing = await this.candidates.get(tenant, event.data.runId);
    // Queued, running, failed or audited: the audit was requested already (POST /v1/runs/{runId}/audit re-audits).
    if (existing && existing.status !== 'awaiting-audit') return;
    const candidate = { ...candidateFromCompletedRun(event), ...(existing ? { requests: existing.requests, error: existing.error } : {}) };
    await this.candidates.upsert(tenant, candidate);
    this.logger.log({
      msg: 'audit candidate recorded',
      tenantId: event.tenantid,
      contextId: candidate.contextId,
      runId: candidate.id,
      adapterId: candidate.run.adapterId,
    });
    // A failure here (framer or Redis unreachable) is recorded on the candidate with its cause,
    // and the event is retried by the bus.
    await this.requestAudit.execute(tenant, candidate);
  }
}
