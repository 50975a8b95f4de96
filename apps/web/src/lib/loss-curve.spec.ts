import { addPoint, formatDuration, lossCurveGeometry, niceTicks } from './loss-curve';

const box = { width: 200, height: 100, left: 0, right: 0, top: 0, bottom: 0 };

describe('the loss curve', () => {
  it('maps steps to x over the total steps, and the losses over their own range with a margin', () => {
    const g = lossCurveGeometry(
      [
        { step: 0, loss: 2 },
        { step: 5, loss: 1 },
      ],
      10,
      box,
    );
    // y from 0.9 to 2.1 (10 % of the range on each side); step 5 of 10 is the middle.
    const y = (loss: number) => (100 - ((loss - 0.9) / 1.2) * 100).toFixed(1);
    expect(g.path).toBe(`M0.0,${y(2)} L100.0,${y(1)}`);
    expect(g.last?.point).toEqual({ step: 5, loss: 1 });
    expect(g.xTicks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(g.yTicks.map((t) => t.value)).toEqual([1, 1.5, 2]);
  });

  it('shows a loss that barely moves as moving, and a flat one in the middle', () => {
    const moving = lossCurveGeometry(
      [
        { step: 1, loss: 11.355 },
        { step: 10, loss: 11.326 },
      ],
      10,
      box,
    );
    const ys = moving.path.split(' ').map((p) => Number(p.split(',')[1]));
    expect((ys[1] ?? 0) - (ys[0] ?? 0)).toBeGreaterThan(50);
    const flat = lossCurveGeometry([{ step: 1, loss: 3 }], 10, box);
    expect(flat.last?.y).toBeCloseTo(50, 5);
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
