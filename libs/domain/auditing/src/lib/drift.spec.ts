import {
  clausesHeldTo,
  compareWithRelease,
  DEFAULT_DRIFT_MARGINS,
  driftWindowOf,
  parseDriftMargins,
  releaseFigures,
  scoreSample,
  windowFigures,
  type ReleaseAudit,
} from './drift';

const GIFTS = { clauseId: 'c-gifts', text: 'Employees must not accept gifts from suppliers worth more than $100.', cited: true };
const TRAVEL = { clauseId: 'c-travel', text: 'Employees may book business travel through the approved agency.', cited: false };

const answer = (refused: boolean, faithfulness: number, contradiction: boolean, reward?: number) => ({
  refused,
  faithfulness,
  contradiction,
  ...(reward === undefined ? {} : { reward }),
});

describe('drift scoring of sampled conversations', () => {
  it('holds an answer to the clauses it cites, else to the first retrieved clause', () => {
    expect(clausesHeldTo({ answer: 'x', clauses: [TRAVEL, GIFTS] }).map((c) => c.id)).toEqual(['c-gifts']);
    expect(clausesHeldTo({ answer: 'x', clauses: [{ ...GIFTS, cited: false }, TRAVEL] }).map((c) => c.id)).toEqual(['c-gifts']);
    expect(clausesHeldTo({ answer: 'x', clauses: [] })).toEqual([]);
  });

  it('scores a faithful answer, a refusal and a contradicting answer', () => {
    const faithful = scoreSample({
      answer: 'No: employees must not accept gifts from suppliers worth more than $100 (§4.1).',
      clauses: [GIFTS, TRAVEL],
    });
    expect(faithful).toMatchObject({ refused: false, contradiction: false, clauseIds: ['c-gifts'] });
    expect(faithful.faithfulness).toBeGreaterThan(0.5);

    expect(scoreSample({ answer: "I'm sorry, but I can't help with that.", clauses: [GIFTS] }).refused).toBe(true);

    const contradicting = scoreSample({ answer: 'Yes, employees may accept gifts from suppliers worth more than $100.', clauses: [GIFTS] });
    expect(contradicting.contradiction).toBe(true);
    expect(contradicting.faithfulness).toBeLessThan(faithful.faithfulness);
  });

  it('sums a window up, and checks the rewards match the samples', () => {
    const scores = [
      { refused: false, faithfulness: 0.8, contradiction: false, clauseIds: [] },
      { refused: true, faithfulness: 0, contradiction: false, clauseIds: [] },
      { refused: false, faithfulness: 0.4, contradiction: true, clauseIds: [] },
      { refused: false, faithfulness: 0.4, contradiction: false, clauseIds: [] },
    ];
    expect(windowFigures(scores, null)).toEqual({ answered: 0.75, faithfulness: 0.4, consistency: 0.75, reward: null });
    expect(windowFigures(scores, [1, 2, 3, 2]).reward).toBe(2);
    expect(() => windowFigures(scores, [1])).toThrow('1 rewards for 4 samples');
  });

  it('reads the release figures from the aligned_rag answers, else the aligned ones', () => {
    const report: ReleaseAudit = {
      results: [
        { variants: { aligned: answer(true, 0, false), aligned_rag: answer(false, 0.9, false, 1.5) } },
        { variants: { aligned: answer(true, 0, false), aligned_rag: answer(false, 0.5, true, 0.5) } },
      ],
    };
    expect(releaseFigures(report)).toEqual({
      variant: 'aligned_rag',
      figures: { answered: 1, faithfulness: 0.7, consistency: 0.5, reward: 1 },
    });
    const noRag: ReleaseAudit = { results: [{ variants: { aligned: answer(false, 0.2, false) } }] };
    expect(releaseFigures(noRag)).toEqual({
      variant: 'aligned',
      figures: { answered: 1, faithfulness: 0.2, consistency: 1, reward: null },
    });
    expect(() => releaseFigures({ results: [{ variants: { base: answer(false, 1, false) } }] })).toThrow(/no aligned or aligned_rag/);
  });

  it('flags a metric only when it falls below the release figure by more than its margin', () => {
    const release = { answered: 0.95, faithfulness: 0.6, consistency: 0.9, reward: 1 };
    const healthy = compareWithRelease(release, { answered: 0.8, faithfulness: 0.55, consistency: 1, reward: null }, DEFAULT_DRIFT_MARGINS);
    expect(healthy.map((m) => m.name)).toEqual(['answered', 'faithfulness', 'consistency']);
    expect(healthy.filter((m) => m.drifted)).toEqual([]);

    const degraded = compareWithRelease(
      release,
      { answered: 0.2, faithfulness: 0.3, consistency: 0.9, reward: 0.9 },
      DEFAULT_DRIFT_MARGINS,
    );
    expect(degraded.filter((m) => m.drifted)).toEqual([
      { name: 'answered', release: 0.95, observed: 0.2, margin: 0.15, drifted: true },
      { name: 'faithfulness', release: 0.6, observed: 0.3, margin: 0.1, drifted: true },
    ]);
  });

  it('parses margins, naming what is wrong', () => {
    expect(parseDriftMargins('answered=0.3, reward=2')).toEqual({ ...DEFAULT_DRIFT_MARGINS, answered: 0.3, reward: 2 });
    expect(parseDriftMargins('')).toEqual(DEFAULT_DRIFT_MARGINS);
    expect(() => parseDriftMargins('correctness=0.1')).toThrow('unknown drift metric "correctness"');
    expect(() => parseDriftMargins('answered=-1')).toThrow('the margin of "answered" must be a number of 0 or more, got "-1"');
    expect(() => parseDriftMargins('answered=0.1,answered=0.2')).toThrow('given twice');
    expect(() => parseDriftMargins('answered')).toThrow('is not a margin');
  });

  it('places a time in its aligned window', () => {
    const w = driftWindowOf(new Date('2026-12-01T15:17:30.000Z'), 3_600_000);
    expect(w.from.toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect(w.to.toISOString()).toBe('2026-12-01T16:00:00.000Z');
    expect(() => driftWindowOf(new Date(), 0)).toThrow(/whole number of ms > 0/);
  });
});
