import { buildCloudEvent, parseEvent, TRAINING_RUN_COMPLETED_V1, type TrainingRunCompletedV1 } from '@studio/contracts';
import { AuditCandidate, candidateFromCompletedRun } from './audit-candidate';

describe('candidateFromCompletedRun', () => {
  it('queues the trained adapter for its audit', () => {
    const event = parseEvent(
      TRAINING_RUN_COMPLETED_V1,
      buildCloudEvent<TrainingRunCompletedV1>({
        topic: TRAINING_RUN_COMPLETED_V1,
        source: '/studio/instructor',
        tenantId: 'acme',
        contextId: 'ctx-1',
        data: {
          version: 'v1',
          contextId: 'ctx-1',
          runId: 'run-1',
          method: 'sft',
          baseModel: 'SmolLM2-135M-Instruct',
          datasetVersionId: 'ds-1',
          adapterId: 'adapter-1',
          artifactUri: 'file:///artifacts/run-1',
          metrics: { loss: 0.42 },
          parentAdapter: null,
          preferenceDatasetId: null,
        },
      }),
    );
    const candidate = candidateFromCompletedRun(event);
    expect(AuditCandidate.parse(candidate)).toEqual(candidate);
    expect(candidate).toMatchObject({
      id: 'run-1',
      run: { adapterId: 'adapter-1', metrics: { loss: 0.42 } },
      status: 'awaiting-audit',
      completedEventId: event.id,
    });
  });
});
