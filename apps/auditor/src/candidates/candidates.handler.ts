import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TRAINING_RUN_COMPLETED_V1, type CloudEvent, type TrainingRunCompletedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { candidateFromCompletedRun, type AuditCandidate } from './audit-candidate';

export const AUDIT_CANDIDATES_REPOSITORY = Symbol('AUDIT_CANDIDATES_REPOSITORY');

/** Queues every completed training run for its release-gate audit. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class CandidatesHandler {
  private readonly logger = new Logger(CandidatesHandler.name);

  constructor(@Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>) {}

  @EventPattern(TRAINING_RUN_COMPLETED_V1)
  async onTrainingRunCompleted(@Payload() event: CloudEvent<TrainingRunCompletedV1>): Promise<void> {
    const candidate = candidateFromCompletedRun(event);
    await this.candidates.upsert(tenantId(event.tenantid), candidate);
    this.logger.log({ msg: 'audit candidate recorded', tenantId: event.tenantid, contextId: candidate.contextId, runId: candidate.id, adapterId: candidate.adapterId });
  }
}
