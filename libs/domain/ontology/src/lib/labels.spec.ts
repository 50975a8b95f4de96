import type { Concept } from '@studio/contracts';
import { conceptId, isConceptLabel, leadingNounPhrases, normaliseLabel, readVerbs } from './labels';
import { ConceptMatcher } from './matcher';

describe('normaliseLabel', () => {
  it.each([
    ['A covered entity', 'covered entity'],
    ['Gifts', 'gift'],
    ['the Employees', 'employee'],
    ['"Business Partners"', 'business partner'],
    ['their policies', 'policy'],
    ['PHI', 'PHI'],
    ['Protected Health Information', 'protected health information'],
    ['any business associates', 'business associate'],
    ['the analysis', 'analysis'],
    ['the', ''],
  ])('%s → %s', (input, expected) => {
    expect(normaliseLabel(input)).toBe(expected);
  });
});

describe('conceptId', () => {
  it('is c- and a slug', () => {
    expect(conceptId('covered entity')).toBe('c-covered-entity');
    expect(conceptId('PHI')).toBe('c-phi');
    expect(() => conceptId('§ 1')).not.toThrow();
    expect(() => conceptId('—')).toThrow(/no letters or digits/);
  });
});

describe('isConceptLabel', () => {
  it('rejects pronouns, numbers, stop words and long fragments', () => {
    for (const junk of ['it', 'them', 'anything', '30 days', 'of', 'and', 'the request of the individual who asked for it'])
      expect(isConceptLabel(junk)).toBe(false);
    for (const ok of ['gift', 'covered entity', 'PHI', 'protected health information']) expect(isConceptLabel(ok)).toBe(true);
  });
});

describe('phrase reading', () => {
  it('reads coordinated verbs and the passive', () => {
    expect(readVerbs('offer, give, request or accept any Gift')?.verbs).toEqual(['offer', 'give', 'request', 'accept']);
    const passive = readVerbs('be accepted only with approval');
    expect(passive?.passive).toBe(true);
    expect(passive?.verbs).toEqual(['accept']);
    expect(readVerbs('gifts of cash')).toBeNull();
  });

  it('reads coordinated noun phrases up to the first preposition', () => {
    expect(leadingNounPhrases('any Gift or Entertainment that is intended to')).toEqual(['Gift', 'Entertainment']);
    expect(leadingNounPhrases('protected health information for research')).toEqual(['protected health information']);
  });
});

describe('ConceptMatcher', () => {
  const concepts: Concept[] = [
    {
      id: 'c-health-information',
      prefLabel: 'health information',
      altLabels: [],
      roles: ['object'],
      definition: null,
      clauseIds: [],
      documentIds: ['d'],
      origin: 'extracted',
    },
    {
      id: 'c-protected-health-information',
      prefLabel: 'protected health information',
      altLabels: ['PHI'],
      roles: ['term'],
      definition: null,
      clauseIds: [],
      documentIds: ['d'],
      origin: 'extracted',
    },
    {
      id: 'c-gift',
      prefLabel: 'gift',
      altLabels: [],
      roles: ['object'],
      definition: null,
      clauseIds: [],
      documentIds: ['d'],
      origin: 'extracted',
    },
  ];
  const matcher = new ConceptMatcher(concepts);

  it('finds whole-word, lemmatised, longest matches with offsets', () => {
    const text = 'May I share Protected Health Information or PHI, and accept Gifts? Giftshop health information.';
    const found = matcher.find(text);
    expect(found.map((m) => m.conceptId)).toEqual([
      'c-protected-health-information',
      'c-protected-health-information',
      'c-gift',
      'c-health-information',
    ]);
    expect(found.map((m) => text.slice(m.start, m.end))).toEqual(['Protected Health Information', 'PHI', 'Gifts', 'health information']);
    expect(found[1]?.label).toBe('PHI');
  });
  it('finds nothing in a text without the labels', () => {
    expect(matcher.find('Nothing to see here.')).toEqual([]);
  });
});
