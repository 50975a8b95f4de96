import { encodeSparse, sparseDot, termIndex, tokenize } from './sparse';

describe('tokenize', () => {
  it('lower-cases, splits on non-word characters and drops stop-words and single characters', () => {
    expect(tokenize('The Employee MUST NOT accept gifts, e.g. over $100!')).toEqual(['employee', 'must', 'accept', 'gifts', '100']);
  });

  it('keeps letters outside ASCII', () => {
    expect(tokenize('Geschäftsgeheimnisse schützen')).toEqual(['geschäftsgeheimnisse', 'schützen']);
  });
});

describe('termIndex', () => {
  it('is 32-bit FNV-1a (published test vectors)', () => {
    expect(termIndex('a')).toBe(0xe40c292c);
    expect(termIndex('foobar')).toBe(0xbf9cf968);
  });

  it('is an unsigned 32-bit integer', () => {
    for (const term of ['policy', 'gift', 'confidential', 'übung']) {
      const index = termIndex(term);
      expect(Number.isInteger(index)).toBe(true);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(2 ** 32);
    }
  });
});

describe('encodeSparse', () => {
  it('weights repeated terms by 1 + ln(tf), indices ascending and unique', () => {
    const v = encodeSparse('gift gift gift policy');
    expect(v.indices).toEqual([...v.indices].sort((a, b) => a - b));
    expect(new Set(v.indices).size).toBe(v.indices.length);
    const weight = (term: string) => v.values[v.indices.indexOf(termIndex(term))];
    expect(weight('gift')).toBeCloseTo(1 + Math.log(3));
    expect(weight('policy')).toBeCloseTo(1);
    expect(v.indices).toHaveLength(2);
  });

  it('is case-insensitive and ignores stop-words', () => {
    expect(encodeSparse('The GIFTS of the company')).toEqual(encodeSparse('gifts company'));
  });

  it('gives an empty vector for text without terms', () => {
    expect(encodeSparse('the of and')).toEqual({ indices: [], values: [] });
  });

  it('scores shared terms by dot product', () => {
    const doc = encodeSparse('Employees must not accept gifts from suppliers');
    expect(sparseDot(encodeSparse('supplier gifts'), doc)).toBeCloseTo(1);
    expect(sparseDot(encodeSparse('gifts suppliers'), doc)).toBeCloseTo(2);
    expect(sparseDot(encodeSparse('vacation policy'), doc)).toBe(0);
  });
});
