import type { RateView, RedTeamView } from './model';
import { rateText, strategyRows } from './red-team-report';

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
