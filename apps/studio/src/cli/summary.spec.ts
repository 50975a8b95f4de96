import { overheadShare } from './summary';

describe('overheadShare', () => {
  it('is the wall time outside the model runtime as a share of the total', () => {
    const r = overheadShare({
      totalMs: 1000,
      timings: [
        { stage: 'frame', ms: 50, modelMs: 0 },
        { stage: 'train', ms: 900, modelMs: 880 },
      ],
    });
    expect(r).toEqual({ modelMs: 880, overheadMs: 120, share: 0.12 });
    expect(overheadShare({ totalMs: 0, timings: [] }).share).toBe(0);
  });
});
