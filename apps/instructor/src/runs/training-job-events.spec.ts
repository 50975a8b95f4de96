import { failureOf } from './training-job-events';

describe('failureOf', () => {
  it('splits the worker’s "Type: message" reason, and keeps a reason without a type whole', () => {
    expect(failureOf('dataset_error: sha256 mismatch: line 3')).toEqual({ type: 'dataset_error', message: 'sha256 mismatch: line 3' });
    expect(failureOf('worker lost the job')).toEqual({ type: 'TrainingFailed', message: 'worker lost the job' });
    expect(failureOf('not a type: but a sentence')).toEqual({ type: 'TrainingFailed', message: 'not a type: but a sentence' });
  });
});
