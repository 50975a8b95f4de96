import {
  conditionParts,
  danglingReference,
  indefiniteArticle,
  inSentence,
  oneOf,
  onlyPhrase,
  pastTenseOf,
  resolveDemonstratives,
  verbPhrase,
  whetherProposition,
} from './phrasing';

describe('verb phrases through compromise', () => {
  it.each([
    ['use or disclose protected health information', 'used or disclosed protected health information'],
    ['record every gift in the register', 'recorded every gift in the register'],
    ['make reasonable efforts to limit the information', 'made reasonable efforts to limit the information'],
    ['promptly notify the individual', 'promptly notified the individual'],
    ['comply with the requirements of this subpart', 'complied with the requirements of this subpart'],
  ])('%s → %s', (action, past) => {
    expect(pastTenseOf(action)).toBe(past);
  });

  it('reads no verb phrase where the action starts with a noun, and forms no past of a passive', () => {
    expect(verbPhrase('gifts above $500')).toBeNull();
    expect(verbPhrase('such use or disclosure')).toBeNull();
    expect(pastTenseOf('be treated as a personal representative')).toBeNull();
    expect(pastTenseOf('document the titles of the persons and retain the documentation')).toBeNull();
    expect(verbPhrase('use or disclose the data')).toEqual({ adverbs: [], verbs: ['use', 'disclose'], joiners: ['or'], rest: 'the data' });
  });
});

describe('noun phrases', () => {
  it.each([
    ['Employees', 'an employee'],
    ['the covered entity', 'a covered entity'],
    ['A health plan', 'a health plan'],
    ['Managers who observe harassment', null],
    ['Corporate Communications', null],
  ])('one of %s → %s', (np, one) => {
    expect(oneOf(np)).toBe(one);
  });

  it('lower-cases a leading determiner or common plural, and keeps names', () => {
    expect(inSentence('The covered entity')).toBe('the covered entity');
    expect(inSentence('Managers who receive a report')).toBe('managers who receive a report');
    expect(inSentence('Corporate Communications')).toBe('Corporate Communications');
  });

  it.each([
    ['employee', 'an'],
    ['covered', 'a'],
    ['individual', 'an'],
    ['user', 'a'],
    ['hour', 'an'],
    ['HMO', 'an'],
  ])('%s takes "%s"', (word, article) => {
    expect(indefiniteArticle(word)).toBe(article);
  });
});

describe('onlyPhrase / conditionParts', () => {
  it.each([
    ['only when they are reasonable', 'only when they are reasonable'],
    ['only where the travel is related', 'only where the travel is related'],
    ['only with the written approval of their manager', 'only with the written approval of their manager'],
    ['provided that they do not alter it', 'only if they do not alter it'],
    ['if the Legal Department approves', 'only if the Legal Department approves'],
    ['with a value of up to $200 per person', 'only with a value of up to $200 per person'],
  ])('%s → %s', (condition, expected) => {
    expect(onlyPhrase(condition)).toBe(expected);
    expect(onlyPhrase(condition)).not.toMatch(/\bonly only\b/);
  });

  it('strips the leading connective of a condition', () => {
    expect(conditionParts('only when they need it')).toEqual({ connective: 'when', content: 'they need it' });
    expect(conditionParts('provided that the total is below $250')).toEqual({
      connective: 'provided that',
      content: 'the total is below $250',
    });
    expect(conditionParts('with approval')).toEqual({ connective: null, content: 'with approval' });
  });
});

describe('whetherProposition', () => {
  it('drops a single auxiliary negation, which asks the same question', () => {
    expect(whetherProposition('the value of a Gift is not known')).toBe('the value of a Gift is known');
    expect(whetherProposition('when a Gift cannot be accepted')).toBe('a Gift can be accepted');
    expect(whetherProposition('a local law sets a stricter standard')).toBe('a local law sets a stricter standard');
  });

  it('refuses negations it cannot drop without rewording', () => {
    expect(whetherProposition('the total does not exceed $250')).toBeNull();
    expect(whetherProposition('the value is not known and cannot be estimated')).toBeNull();
  });
});

describe('danglingReference', () => {
  it.each([
    ['employees delete records after that period', 'that period'],
    ['employees refuse, delay or ignore such a request', 'such a request'],
    ['employees ask the individual to explain why they are making it', 'it'],
    ['an employee estimate its market value in good faith', 'its'],
    ['managers who engage such persons', 'such persons'],
  ])('%s → %s', (phrase, expected) => {
    expect(danglingReference(phrase)).toBe(expected);
  });

  it.each([
    'employees follow these Guidelines',
    'an employee politely return it with an explanation of this policy if a Gift cannot be accepted',
    'employees who have a financial interest in a Business Partner declare that interest',
    'employees access Personal Data only when they need it to perform their job duties',
    'employees ask a Business Partner to do anything that employees themselves are prohibited from doing',
    'employees destroy or alter records that are subject to a legal hold',
    'every Employee stop any work that they reasonably believe is unsafe',
    'employees share their passwords with IT staff',
  ])('%s has no dangling reference', (phrase) => {
    expect(danglingReference(phrase)).toBeNull();
  });
});

describe('resolveDemonstratives', () => {
  it('resolves "that NOUN" from an earlier noun phrase of the clause', () => {
    expect(
      resolveDemonstratives(
        'delete records after that period',
        'Employees must retain records for the periods set out in the Records Retention Schedule, and may ',
      ),
    ).toBe('delete records after the period set out in the Records Retention Schedule');
    expect(
      resolveDemonstratives(
        'open attachments in such messages',
        'Employees must report suspected phishing messages using the report button and must not ',
      ),
    ).toBe('open attachments in suspected phishing messages');
  });

  it('leaves references it cannot resolve, or that the phrase resolves itself', () => {
    expect(resolveDemonstratives('ignore such a request', 'Employees must not ')).toBe('ignore such a request');
    expect(
      resolveDemonstratives(
        'declare that interest',
        'Employees who have a financial interest shall ',
        'Employees who have a financial interest',
      ),
    ).toBe('declare that interest');
  });
});
