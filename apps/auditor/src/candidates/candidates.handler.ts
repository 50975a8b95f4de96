import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TRAINING_RUN_COMPLETED_V1, type CloudEvent, type TrainingRunCompletedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { RequestAudit } from '../audits/request-audit';
import { candidateFromCompletedRun, type AuditCandidate } from './audit-candidate';

export const AUDIT_CANDIDATES_REPOSITORY = Symbol('AUDIT_CANDIDATES_REPOSITORY');

/** Records every completed training run as a candidate and queues its release-gate audit. */
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
    const existing = await this.candidates.get(tenant, event.data.runId);
    if (existing && existing.status !== 'awaiting-audit') return;
    const candidate = candidateFromCompletedRun(event);
    await this.candidates.upsert(tenant, candidate);
    this.logger.log({
      msg: 'audit candidate recorded',
      tenantId: event.tenantid,
      contextId: candidate.contextId,
      runId: candidate.id,
      adapterId: candidate.adapterId,
    });
    await this.requestAudit.execute(tenant, candidate);
  }
}
