import { foldPlural, normalise, sentences, tokenise, tokeniseWithCurrency } from './text';

describe('normalise / tokenise', () => {
  it('lower-cases, strips accents, apostrophes and punctuation, keeps decimals and joins thousands', () => {
    expect(normalise("Café's")).toBe('cafes');
    expect(tokenise("The employee's gift, worth $1,000.50, can't be kept — really?!")).toEqual([
      'the',
      'employees',
      'gift',
      'worth',
      '1000.50',
      'cant',
      'be',
      'kept',
      'really',
    ]);
  });

  it('treats curly apostrophes like straight ones', () => {
    expect(tokenise('I can\u2019t')).toEqual(tokenise("I can't"));
  });

  it('splits on hyphens and slashes and keeps non-Latin letters', () => {
    expect(tokenise('30-day notice/approval')).toEqual(['30', 'day', 'notice', 'approval']);
    expect(tokenise('Straße Ωmega')).toEqual(['straße', 'ωmega']);
  });

  it('removes only articles in SQuAD mode and stop words in english mode', () => {
    expect(tokenise('The manager must approve a gift', { stopWords: 'articles' })).toEqual(['manager', 'must', 'approve', 'gift']);
    expect(tokenise('The manager must not approve a gift', { stopWords: 'english' })).toEqual(['manager', 'approve', 'gift']);
  });

  it('returns no tokens for punctuation only', () => {
    expect(tokenise(' ... !? ')).toEqual([]);
  });

  it('keeps currency symbols as tokens when asked', () => {
    expect(tokeniseWithCurrency('Up to $100 or €50.')).toEqual(['up', 'to', '$', '100', 'or', '€', '50']);
  });
});

describe('sentences', () => {
  it('splits at sentence punctuation but not inside decimals', () => {
    expect(sentences('It costs $2.50. Then stop! Is it ok?\nYes; fine')).toEqual([
      'It costs $2.50',
      'Then stop',
      'Is it ok',
      'Yes',
      'fine',
    ]);
  });
});

describe('foldPlural', () => {
  it.each([
    ['days', 'day'],
    ['policies', 'policy'],
    ['gifts', 'gift'],
    ['business', 'business'],
    ['status', 'status'],
    ['analysis', 'analysis'],
    ['bus', 'bus'],
    ['100s', '100s'],
  ])('%s → %s', (input, output) => expect(foldPlural(input)).toBe(output));
});
