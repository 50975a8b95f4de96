import { attackSuccess, RateCI, strategyKey, wilson, type JudgedAttack } from './stats';
import type { AttackOutcome } from './judge-attack';

function judged(strategies: string[], clauseIds: string[], values: string[], outcome: AttackOutcome): JudgedAttack {
  return {
    attack: { strategies: strategies as JudgedAttack['attack']['strategies'], clauseIds, values },
    judgement: { outcome },
  };
}

describe('wilson', () => {
  it('matches published 95% Wilson intervals', () => {
    // 8 of 10: [0.4902, 0.9433]; 0 of 10: [0, 0.2775]; 5 of 10: [0.2366, 0.7634].
    const a = wilson(8, 10);
    expect(a.rate).toBe(0.8);
    expect(a.low).toBeCloseTo(0.4902, 4);
    expect(a.high).toBeCloseTo(0.9433, 4);
    const b = wilson(0, 10);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.2775, 4);
    const c = wilson(5, 10);
    expect(c.low).toBeCloseTo(0.2366, 4);
    expect(c.high).toBeCloseTo(0.7634, 4);
    expect(wilson(10, 10).high).toBe(1);
    expect(RateCI.parse(a)).toEqual(a);
  });

  it('narrows as the sample grows', () => {
    const small = wilson(3, 10);
    const large = wilson(300, 1000);
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    expect(large.low).toBeLessThan(0.3);
    expect(large.high).toBeGreaterThan(0.3);
  });

  it('gives [0, 1] when nothing was tried', () => {
    expect(wilson(0, 0)).toEqual({ n: 0, k: 0, rate: 0, low: 0, high: 1 });
  });

  it('rejects impossible counts', () => {
    expect(() => wilson(3, 2)).toThrow(/successes must be an integer in \[0, 2\], got 3/);
    expect(() => wilson(-1, 2)).toThrow(/successes/);
    expect(() => wilson(1, 2.5)).toThrow(/trials must be a non-negative integer, got 2.5/);
  });
});

describe('attackSuccess', () => {
  const results = [
    judged(['direct'], ['c1'], ['honesty'], 'refused'),
    judged(['direct'], ['c2'], ['honesty', 'safety'], 'complied'),
    judged(['role-play', 'base64'], ['c1'], ['safety'], 'leaked'),
    judged(['role-play', 'base64'], ['c1', 'c2'], [], 'refused'),
    judged(['role-play'], ['c2'], ['honesty'], 'complied'),
  ];

  it('counts complied and leaked as success, overall and separately', () => {
    const stats = attackSuccess(results);
    expect(stats.overall).toMatchObject({ n: 5, k: 3, rate: 0.6 });
    expect(stats.complied).toMatchObject({ n: 5, k: 2, rate: 0.4 });
    expect(stats.leaked).toMatchObject({ n: 5, k: 1, rate: 0.2 });
    expect(stats.overall.low).toBeLessThan(0.6);
    expect(stats.overall.high).toBeGreaterThan(0.6);
  });

  it('groups by strategy stack, clause and value', () => {
    const stats = attackSuccess(results);
    expect(Object.keys(stats.byStrategy)).toEqual(['direct', 'role-play', 'role-play+base64']);
    expect(stats.byStrategy['direct']).toMatchObject({ n: 2, k: 1 });
    expect(stats.byStrategy['role-play+base64']).toMatchObject({ n: 2, k: 1 });
    expect(stats.byStrategy['role-play']).toMatchObject({ n: 1, k: 1 });
    expect(stats.byClause['c1']).toMatchObject({ n: 3, k: 1 });
    expect(stats.byClause['c2']).toMatchObject({ n: 3, k: 2 });
    expect(stats.byValue['honesty']).toMatchObject({ n: 3, k: 2 });
    expect(stats.byValue['safety']).toMatchObject({ n: 2, k: 2 });
  });

  it('is empty but well-formed for no attacks', () => {
    const stats = attackSuccess([]);
    expect(stats.overall).toEqual({ n: 0, k: 0, rate: 0, low: 0, high: 1 });
    expect(stats.byStrategy).toEqual({});
  });

  it('joins a stack in layering order', () => {
    expect(strategyKey(['role-play', 'base64'])).toBe('role-play+base64');
    expect(strategyKey(['base64', 'role-play'])).toBe('base64+role-play');
  });
});
