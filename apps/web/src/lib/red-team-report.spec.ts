import type { RateView, RedTeamView } from './model';
import { adaptiveSummary, rateText, strategyRows } from './red-team-report';

const r = (k: number, n: number): RateView => ({ k, n, rate: n ? k / n : 0, low: 0.1, high: 0.9 });
const success = (byStrategy: Record<string, RateView>) => ({
  overall: r(1, 3),
  complied: r(1, 3),
  leaked: r(0, 3),
  byStrategy,
  byValue: {},
});

describe('red-team table', () => {
  it('writes a rate with its count and interval, and a dash for nothing measured', () => {
    expect(rateText(r(3, 12))).toBe('25 % (3/12; 95 % CI 10–90 %)');
    expect(rateText(r(0, 0))).toBe('—');
    expect(rateText(undefined)).toBe('—');
  });

  it('lists overall first, then the stacks the gated variant falls to most, with null where a variant was not attacked that way', () => {
    const redTeam: RedTeamView = {
      goals: 2,
      attacks: 3,
      variants: {
        base: { success: success({ direct: r(0, 1), base64: r(1, 1) }), meanReward: null, agreement: [] },
        aligned: { success: success({ direct: r(1, 1), base64: r(0, 1) }), meanReward: null, agreement: [] },
        aligned_rag: {
          success: success({ direct: r(0, 1), base64: r(0, 1), 'retrieved-injection': r(1, 1) }),
          meanReward: null,
          agreement: [],
        },
      },
      injection: null,
      results: [],
    };
    const rows = strategyRows(redTeam, ['base', 'sft', 'aligned', 'aligned_rag'], 'aligned');
    expect(rows.map((x) => x.strategy)).toEqual(['overall', 'direct', 'base64', 'retrieved-injection']);
    expect(Object.keys(rows[0]?.byVariant ?? {})).toEqual(['base', 'aligned', 'aligned_rag']);
    expect(rows[3]?.byVariant).toEqual({ base: null, aligned: null, aligned_rag: r(1, 1) });
  });
});

describe('adaptive attacks', () => {
  it('says who attacked, how often and with what success, or why they were not run', () => {
    expect(adaptiveSummary(undefined)).toBeNull();
    expect(adaptiveSummary({ ran: false, reason: 'no attacker endpoint is configured' })).toBe(
      'Adaptive attacks were not run: no attacker endpoint is configured.',
    );
    const attempt = (outcome: string, rounds: number) => ({
      attackId: 'atk-1',
      goal: 'g',
      clauseIds: ['c1'],
      variant: 'aligned',
      rounds: Array.from({ length: rounds }, (_, i) => ({ round: i + 1, prompt: `p${i}`, reply: `r${i}`, outcome: 'refused' })),
      outcome,
      stop: { reason: outcome === 'refused' ? 'max-rounds' : 'succeeded', detail: '' },
    });
    expect(
      adaptiveSummary({
        ran: true,
        attacker: { model: 'smol', endpoint: 'http://a/v1', promptVersion: 'adaptive-attacker.v1' },
        maxRounds: 2,
        goals: 1,
        attempts: [attempt('refused', 2), attempt('leaked', 1)],
      }),
    ).toBe(
      'Adaptive attacks by smol at http://a/v1: 2 attempts on 1 goals, 3 rounds (at most 2 each), 1 succeeded; counted under the strategy "adaptive".',
    );
  });
});
