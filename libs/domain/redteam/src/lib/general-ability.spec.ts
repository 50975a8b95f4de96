import {
  answerSentence,
  GENERAL_ABILITY_SET,
  GeneralAbilitySet,
  generalAbility,
  scoreGeneralAbility,
  type GeneralAbilityItem,
} from './general-ability';

const item = (question: string, answers: string[]): GeneralAbilityItem => ({ id: 'x', category: 'test', question, answers });

describe('the general-ability set', () => {
  it('ships with its provenance, about 60 items across six categories, unique ids', () => {
    expect(GENERAL_ABILITY_SET.version).toBe('general-ability.v1');
    expect(GENERAL_ABILITY_SET.provenance).toMatch(/written for alignment studio/i);
    expect(GENERAL_ABILITY_SET.provenance).toMatch(/original/i);
    expect(GENERAL_ABILITY_SET.items.length).toBeGreaterThanOrEqual(55);
    expect(new Set(GENERAL_ABILITY_SET.items.map((i) => i.category))).toEqual(
      new Set(['arithmetic', 'unit-conversion', 'general-knowledge', 'reading-comprehension', 'word-sense', 'logic']),
    );
    expect(new Set(GENERAL_ABILITY_SET.items.map((i) => i.id)).size).toBe(GENERAL_ABILITY_SET.items.length);
  });

  it('keeps questions and answers short', () => {
    for (const i of GENERAL_ABILITY_SET.items) {
      expect(i.question.length).toBeLessThanOrEqual(120);
      for (const a of i.answers) expect(a.split(/\s+/u).length).toBeLessThanOrEqual(3);
    }
  });

  it('scores every item right for a reply that gives its first accepted answer, and wrong for no answer', () => {
    for (const i of GENERAL_ABILITY_SET.items) {
      expect([i.id, scoreGeneralAbility(i, `The answer is ${i.answers[0]}.`)]).toEqual([i.id, true]);
      expect([i.id, scoreGeneralAbility(i, 'I do not know.')]).toEqual([i.id, false]);
    }
  });

  it('takes distractors from the options the question names (or the other of yes and no), never an accepted answer', () => {
    for (const i of GENERAL_ABILITY_SET.items) {
      const yesNo = i.answers.every((a) => a === 'yes' || a === 'no');
      for (const d of i.distractors ?? []) {
        const named = i.question.toLowerCase().includes(d.toLowerCase()) || (yesNo && (d === 'yes' || d === 'no'));
        expect([i.id, named]).toEqual([i.id, true]);
        expect(i.answers.map((a) => a.toLowerCase())).not.toContain(d.toLowerCase());
      }
    }
  });

  it('rejects a malformed set naming the problem', () => {
    const bad = GeneralAbilitySet.safeParse({ version: 'v', provenance: 'p', items: [item('q', ['a']), item('r', ['b'])] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('duplicate general-ability item id x');
    expect(GeneralAbilitySet.safeParse({ version: 'v', provenance: 'p', items: [item('q', [])] }).success).toBe(false);
  });
});

describe('scoreGeneralAbility', () => {
  it('compares numbers as numbers, reading number words', () => {
    const sum = item('What is 7 + 5?', ['12']);
    expect(scoreGeneralAbility(sum, '12')).toBe(true);
    expect(scoreGeneralAbility(sum, '7 + 5 = 12.')).toBe(true);
    expect(scoreGeneralAbility(sum, 'Twelve.')).toBe(true);
    expect(scoreGeneralAbility(sum, '12.0')).toBe(true);
    expect(scoreGeneralAbility(sum, '7 + 5 = 13.')).toBe(false);
    expect(scoreGeneralAbility(sum, '7 + 5')).toBe(false);
    expect(scoreGeneralAbility(sum, '112')).toBe(false);
    expect(scoreGeneralAbility(item('How many grams are in one kilogram?', ['1000']), 'One kilogram is 1,000 grams.')).toBe(true);
  });

  it('takes a number quoted from the passage when the answer is in the question', () => {
    const shop = item('The shop opens at 9 and closes at 5. At what time does it open?', ['9']);
    expect(scoreGeneralAbility(shop, 'It opens at 9.')).toBe(true);
    expect(scoreGeneralAbility(shop, 'It closes at 5.')).toBe(false);
  });

  it('matches text answers as a run of normalised tokens in the first sentence', () => {
    const capital = item('What is the capital of France?', ['Paris']);
    expect(scoreGeneralAbility(capital, 'The capital of France is Paris.')).toBe(true);
    expect(scoreGeneralAbility(capital, 'PARIS')).toBe(true);
    expect(scoreGeneralAbility(capital, 'It is Lyon. Some say Paris.')).toBe(false);
    expect(scoreGeneralAbility(capital, 'Parisian food is great.')).toBe(false);
    const gas = item('Which gas do plants take in?', ['carbon dioxide', 'CO2']);
    expect(scoreGeneralAbility(gas, 'Plants take in carbon dioxide.')).toBe(true);
    expect(scoreGeneralAbility(gas, 'CO2.')).toBe(true);
    expect(scoreGeneralAbility(gas, 'Carbon monoxide and dioxide.')).toBe(false);
    expect(scoreGeneralAbility(item('What is a baby cat called?', ['kitten']), 'Baby cats are called kittens.')).toBe(true);
  });

  it('counts a reply wrong when it names a distractor before the answer', () => {
    const older = { ...item('Tom was born in 1990 and Sara in 1995. Who is older?', ['Tom']), distractors: ['Sara'] };
    expect(scoreGeneralAbility(older, 'Tom is older.')).toBe(true);
    expect(scoreGeneralAbility(older, 'Tom is older than Sara.')).toBe(true);
    expect(scoreGeneralAbility(older, 'Sara is 10 years older than Tom.')).toBe(false);
    const parity = { ...item('Is 7 an even or an odd number?', ['odd']), distractors: ['even'] };
    expect(scoreGeneralAbility(parity, '7 is neither an even nor an odd number.')).toBe(false);
    expect(scoreGeneralAbility(parity, 'Seven is odd, not even.')).toBe(true);
  });

  it('skips filler and answer labels before the first sentence', () => {
    expect(answerSentence('Sure! Answer: Tokyo.')).toBe('Tokyo.');
    expect(answerSentence('Of course.\nThe answer is blue.')).toBe('The answer is blue.');
    expect(scoreGeneralAbility(item('What colour is the sky?', ['blue']), 'Sure!\nBlue.')).toBe(true);
    expect(scoreGeneralAbility(item('What colour is the sky?', ['blue']), '')).toBe(false);
  });
});

describe('generalAbility', () => {
  it('scores the answered items with an interval and per category', () => {
    const [a, b, c] = GENERAL_ABILITY_SET.items as [GeneralAbilityItem, GeneralAbilityItem, GeneralAbilityItem];
    const result = generalAbility({ [a.id]: `${a.answers[0]}`, [b.id]: 'no idea', [c.id]: `${c.answers[0]}.` });
    expect(result.items).toBe(3);
    expect(result.correct).toBe(2);
    expect(result.accuracy).toMatchObject({ n: 3, k: 2 });
    expect(result.byCategory['arithmetic']).toMatchObject({ n: 3, k: 2 });
  });

  it('rejects answers to items the set does not have', () => {
    expect(() => generalAbility({ 'ga-nope': '1' })).toThrow('generalAbility: 1 answer(s) for items not in general-ability.v1: ga-nope');
  });

  it('gives an empty result for no answers', () => {
    expect(generalAbility({})).toMatchObject({ items: 0, correct: 0, accuracy: { n: 0, k: 0 } });
  });
});
