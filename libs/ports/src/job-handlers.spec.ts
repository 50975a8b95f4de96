import { ContractViolation, TRAIN_JOB, EVALUATE_RUN_JOB } from '@studio/contracts';
import { JobHandlerRegistry, JobWorkerStartupError, jobNamesOf, parseJobPayload } from './job-handlers';

const noop = async () => undefined;

describe('JobHandlerRegistry.verify', () => {
  it('returns the consumed queues when every job name has exactly one handler', () => {
    const registry = new JobHandlerRegistry();
    registry.register(TRAIN_JOB, noop);
    registry.register(EVALUATE_RUN_JOB, noop);
    expect(registry.verify([TRAIN_JOB, EVALUATE_RUN_JOB])).toEqual(['training', 'evaluation']);
    expect(registry.handlerFor(TRAIN_JOB)).toBe(noop);
  });

  it('refuses a job name with no handler', () => {
    const registry = new JobHandlerRegistry();
    registry.register(TRAIN_JOB, noop);
    expect(() => registry.verify([TRAIN_JOB, EVALUATE_RUN_JOB])).toThrow(JobWorkerStartupError);
    expect(() => registry.verify([TRAIN_JOB, EVALUATE_RUN_JOB])).toThrow(/job "evaluate-run" on queue "evaluation" has no handler/);
  });

  it('refuses a job name with two handlers', () => {
    const registry = new JobHandlerRegistry();
    registry.register(TRAIN_JOB, noop);
    registry.register(TRAIN_JOB, async () => 1);
    expect(() => registry.verify([TRAIN_JOB])).toThrow(/job "train" on queue "training" has 2 handlers/);
  });

  it('refuses a handler for a queue it does not consume, and an empty worker', () => {
    const registry = new JobHandlerRegistry();
    registry.register(TRAIN_JOB, noop);
    registry.register(EVALUATE_RUN_JOB, noop);
    expect(() => registry.verify([TRAIN_JOB])).toThrow(/job "evaluate-run" has a handler but its queue "evaluation" is not consumed/);
    expect(() => new JobHandlerRegistry().verify([])).toThrow(/consumes no queue/);
  });

  it('refuses unknown job names', () => {
    expect(() => new JobHandlerRegistry().register('nope' as typeof TRAIN_JOB, noop)).toThrow(/unknown job name "nope"/);
  });
});

describe('parseJobPayload', () => {
  it('names the job and the invalid fields', () => {
    expect(() => parseJobPayload(EVALUATE_RUN_JOB, { schema_version: 'v1' })).toThrow(ContractViolation);
    expect(() => parseJobPayload(EVALUATE_RUN_JOB, { schema_version: 'v1' })).toThrow(
      /payload of job "evaluate-run" does not match its contract:[\s\S]*tenant_id/,
    );
  });

  it('lists job names per queue', () => {
    expect(jobNamesOf('training')).toEqual([TRAIN_JOB]);
  });
});
