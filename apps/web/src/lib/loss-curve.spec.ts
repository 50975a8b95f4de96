import { addPoint, formatDuration, lossCurveGeometry, niceTicks } from './loss-curve';

const box = { width: 200, height: 100, left: 0, right: 0, top: 0, bottom: 0 };

describe('the loss curve', () => {
  it('maps steps to x over the total steps and loss to y from the bottom', () => {
    const g = lossCurveGeometry(
      [
        { step: 0, loss: 2 },
        { step: 5, loss: 1 },
      ],
      10,
      box,
    );
    // max loss 2 × 1.05 = 2.1; step 5 of 10 is the middle.
    expect(g.path).toBe(`M0.0,${(100 - (2 / 2.1) * 100).toFixed(1)} L100.0,${(100 - (1 / 2.1) * 100).toFixed(1)}`);
    expect(g.last?.point).toEqual({ step: 5, loss: 1 });
    expect(g.xTicks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('draws nothing without points, and ignores non-finite losses', () => {
    expect(lossCurveGeometry([], null, box).path).toBe('');
    expect(lossCurveGeometry([{ step: 1, loss: Number.NaN }], null, box).last).toBeNull();
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 7, 4)).toEqual([0, 2, 4, 6]);
  });

  it('a resumed attempt replaces the steps from its checkpoint on', () => {
    const curve = [1, 2, 3, 4].map((step) => ({ step, loss: 5 - step }));
    expect(addPoint(curve, { step: 3, loss: 9 })).toEqual([
      { step: 1, loss: 4 },
      { step: 2, loss: 3 },
      { step: 3, loss: 9 },
    ]);
  });

  it('formats an ETA', () => {
    expect([formatDuration(null), formatDuration(42.4), formatDuration(125), formatDuration(7260)]).toEqual([
      '—',
      '42 s',
      '2 min 5 s',
      '2 h 1 min',
    ]);
  });
});
