import { correctness, lcsLength, mean, rougeL, tokenF1 } from './metrics';

describe('tokenF1 (SQuAD)', () => {
  it('is 1 for identical answers up to case, punctuation and articles', () => {
    expect(tokenF1('The gift must be reported.', 'gift must be reported')).toBe(1);
  });

  it('matches a hand-computed value with equal lengths', () => {
    // [cat sat on mat] vs [cat sat on rug]: overlap 3, P = R = 3/4.
    expect(tokenF1('the cat sat on the mat', 'a cat sat on a rug')).toBeCloseTo(0.75, 10);
  });

  it('counts overlap as a multiset intersection', () => {
    // [gifts gifts gifts] vs [gifts are reported]: overlap 1, P = R = 1/3.
    expect(tokenF1('gifts gifts gifts', 'gifts are reported')).toBeCloseTo(1 / 3, 10);
  });

  it('matches a hand-computed value with unequal lengths', () => {
    // [report gift to your manager] vs [report it]: overlap 1, P = 1/5, R = 1/2, F1 = 0.2 / 0.7.
    expect(tokenF1('Report the gift to your manager', 'report it')).toBeCloseTo(0.2 / 0.7, 10);
  });

  it('handles empty and disjoint inputs', () => {
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('the', 'a')).toBe(1); // both empty once articles are removed
    expect(tokenF1('', 'report it')).toBe(0);
    expect(tokenF1('yes', 'no')).toBe(0);
  });
});

describe('lcsLength', () => {
  it('finds the classic LCS', () => {
    expect(lcsLength(['a', 'b', 'c', 'b', 'd', 'a', 'b'], ['b', 'd', 'c', 'a', 'b', 'a'])).toBe(4);
    expect(lcsLength(['b', 'd', 'c', 'a', 'b', 'a'], ['a', 'b', 'c', 'b', 'd', 'a', 'b'])).toBe(4);
    expect(lcsLength([], ['a'])).toBe(0);
  });
});

describe('rougeL', () => {
  it('is 0.75 for one substituted word of four', () => {
    expect(rougeL('police killed the gunman', 'police kill the gunman')).toBeCloseTo(0.75, 10);
  });

  it('rewards order: a reordering keeps only the longest in-order run', () => {
    // LCS("the gunman killed police", "police killed the gunman") = 2 ("the gunman").
    expect(rougeL('the gunman killed police', 'police killed the gunman')).toBeCloseTo(0.5, 10);
  });

  it('matches a hand-computed value with unequal lengths', () => {
    // LCS = 3, P = 3/6, R = 3/3, F = 2·0.5·1 / 1.5.
    expect(rougeL('a b c d e f', 'a c f')).toBeCloseTo(2 / 3, 10);
  });

  it('keeps stop words and handles empty inputs', () => {
    expect(rougeL('the the', 'the')).toBeCloseTo(2 / 3, 10);
    expect(rougeL('', '')).toBe(1);
    expect(rougeL('x', '')).toBe(0);
    expect(rougeL('x', 'y')).toBe(0);
  });
});

describe('correctness', () => {
  it('is the mean of token F1 and ROUGE-L by default', () => {
    const c = correctness('the cat sat on the mat', 'a cat sat on a rug');
    // tokens without articles: F1 = 0.75; ROUGE-L over [the cat sat on the mat] / [a cat sat on a rug]: LCS 3, P = R = 1/2.
    expect(c.tokenF1).toBeCloseTo(0.75, 10);
    expect(c.rougeL).toBeCloseTo(0.5, 10);
    expect(c.correctness).toBeCloseTo(0.625, 10);
  });

  it('honours custom weights and rejects invalid ones', () => {
    expect(correctness('a b c d e f', 'a c f', { tokenF1: 0, rougeL: 1 }).correctness).toBeCloseTo(2 / 3, 10);
    // Token F1 drops the article "a": [b c d e f] vs [c f], overlap 2, P = 2/5, R = 1, F1 = 4/7; ROUGE-L = 2/3.
    expect(correctness('a b c d e f', 'a c f', { tokenF1: 3, rougeL: 1 }).correctness).toBeCloseTo((3 * (4 / 7) + 2 / 3) / 4, 10);
    expect(() => correctness('x', 'y', { tokenF1: 0, rougeL: 0 })).toThrow(/positive sum/);
    expect(() => correctness('x', 'y', { tokenF1: -1, rougeL: 2 })).toThrow(/non-negative/);
  });
});

describe('mean', () => {
  it('averages and is null for nothing', () => {
    expect(mean([1, 2, 3])).toBe(2);
    expect(mean([])).toBeNull();
  });
});
