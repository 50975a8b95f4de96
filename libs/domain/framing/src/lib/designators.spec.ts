import { letterLabel, letterLabelValue, MAX_ROMAN, romanNumeral, romanValue } from './designators';

describe('roman numerals, both directions', () => {
  it('writes numbers as roman numerals and reads them back', () => {
    const cases: [number, string][] = [
      [1, 'i'],
      [4, 'iv'],
      [9, 'ix'],
      [14, 'xiv'],
      [40, 'xl'],
      [90, 'xc'],
      [400, 'cd'],
      [1994, 'mcmxciv'],
      [3999, 'mmmcmxcix'],
    ];
    for (const [n, numeral] of cases) {
      expect(romanNumeral(n)).toBe(numeral);
      expect(romanValue(numeral)).toBe(n);
      expect(romanValue(numeral.toUpperCase())).toBe(n);
    }
  });

  it('round-trips every number it can write', () => {
    for (let n = 1; n <= MAX_ROMAN; n++) expect(romanValue(romanNumeral(n) as string)).toBe(n);
  });

  it('has no numeral for 0, negatives, fractions or numbers past 3999, and reads no non-numeral', () => {
    for (const n of [0, -3, 2.5, MAX_ROMAN + 1, Number.NaN]) expect(romanNumeral(n)).toBeNull();
    for (const s of ['', 'iiii', 'vx', 'il', 'abc', 'mmmm']) expect(romanValue(s)).toBeNull();
  });
});

describe('letter labels, both directions', () => {
  it('numbers past z alphabetically (HTML/CSS lower-alpha) or by repeating the letter (Word lowerLetter)', () => {
    const alphabetic: [number, string][] = [
      [1, 'a'],
      [26, 'z'],
      [27, 'aa'],
      [28, 'ab'],
      [52, 'az'],
      [53, 'ba'],
      [702, 'zz'],
      [703, 'aaa'],
    ];
    const repeated: [number, string][] = [
      [1, 'a'],
      [26, 'z'],
      [27, 'aa'],
      [28, 'bb'],
      [52, 'zz'],
      [53, 'aaa'],
    ];
    for (const [n, label] of alphabetic) {
      expect(letterLabel(n, 'alphabetic')).toBe(label);
      expect(letterLabelValue(label, 'alphabetic')).toBe(n);
      expect(letterLabelValue(label.toUpperCase(), 'alphabetic')).toBe(n);
    }
    for (const [n, label] of repeated) {
      expect(letterLabel(n, 'repeated')).toBe(label);
      expect(letterLabelValue(label, 'repeated')).toBe(n);
    }
  });

  it('round-trips in both styles', () => {
    for (let n = 1; n <= 2000; n++) {
      expect(letterLabelValue(letterLabel(n, 'alphabetic') as string, 'alphabetic')).toBe(n);
      expect(letterLabelValue(letterLabel(n, 'repeated') as string, 'repeated')).toBe(n);
    }
  });

  it('has no label for 0, negatives or fractions, and reads nothing that is not one', () => {
    for (const n of [0, -1, 1.5]) {
      expect(letterLabel(n, 'alphabetic')).toBeNull();
      expect(letterLabel(n, 'repeated')).toBeNull();
    }
    expect(letterLabelValue('ab', 'repeated')).toBeNull();
    expect(letterLabelValue('', 'alphabetic')).toBeNull();
    expect(letterLabelValue('a1', 'alphabetic')).toBeNull();
  });
});
