import { addEvalPoint, addPoint, formatDuration, lossCurveGeometry, niceTicks, scoreCurveGeometry } from './loss-curve';

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

describe('the score curve', () => {
  const points = [
    { step: 0, tokenF1: 0.2, heldoutLoss: 3 },
    { step: 20, tokenF1: 0.3, heldoutLoss: 2 },
    { step: 40, tokenF1: 0.25, heldoutLoss: 2.5 },
  ];

  it('draws token F1 and the held-out loss over the same steps, each on its own axis with a margin', () => {
    const g = scoreCurveGeometry([...points].reverse(), 40, box);
    // F1 from 0.19 to 0.31, loss from 2.9 to 3.1: step 20 of 40 is the middle.
    const f1y = (v: number) => (100 - ((v - 0.19) / 0.12) * 100).toFixed(1);
    expect(g.f1Path).toBe(`M0.0,${f1y(0.2)} L100.0,${f1y(0.3)} L200.0,${f1y(0.25)}`);
    const lossY = (v: number) => (100 - ((v - 1.9) / 1.2) * 100).toFixed(1);
    expect(g.lossPath).toBe(`M0.0,${lossY(3)} L100.0,${lossY(2)} L200.0,${lossY(2.5)}`);
    expect(g.dots.map((d) => d.point.step)).toEqual([0, 20, 40]);
    expect(g.xTicks.at(-1)?.value).toBe(40);
    expect(g.f1Ticks.every((t) => t.value >= 0.19 && t.value <= 0.31)).toBe(true);
  });

  it('keeps token F1 within [0, 1] and draws nothing without points', () => {
    const g = scoreCurveGeometry([{ step: 5, tokenF1: 1, heldoutLoss: 0.5 }], 10, box);
    expect(g.f1Ticks.every((t) => t.value <= 1)).toBe(true);
    expect(g.dots[0]?.f1Y).toBeGreaterThanOrEqual(0);
    expect(scoreCurveGeometry([], null, box).f1Path).toBe('');
    expect(scoreCurveGeometry([{ step: 1, tokenF1: Number.NaN, heldoutLoss: 1 }], null, box).dots).toEqual([]);
  });

  it('replaces the evaluations from a resumed step on', () => {
    expect(addEvalPoint(points, { step: 20, tokenF1: 0.5, heldoutLoss: 1 })).toEqual([
      points[0],
      { step: 20, tokenF1: 0.5, heldoutLoss: 1 },
    ]);
  });
});
