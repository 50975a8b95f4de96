import { appendSeed, SeedAppendError } from './seed-sources';
import { parseSeeds, type SeedLine } from './seeds';

const seed: SeedLine = {
  id: 'red-team-f1',
  question: 'Can I share a patient record with a journalist?',
  answer: 'No: disclosure needs the patient’s authorization (§164.508).',
  clause_refs: ['164.508'],
  kind: 'qa',
};

describe('appendSeed', () => {
  it('starts the seeds of a context that has none, as one JSON line', () => {
    const { seeds, added } = appendSeed(null, seed);
    expect(added).toBe(true);
    expect(parseSeeds(seeds)).toEqual([seed]);
    expect(seeds.endsWith('\n')).toBe(true);
  });

  it('keeps the existing lines verbatim and adds the seed after them, even without a final newline', () => {
    const before = '{"id":"s1","question":"Q?","answer":"A.","clause_refs":["1.1"],"kind":"qa"}';
    const { seeds } = appendSeed(before, seed);
    expect(seeds.startsWith(`${before}\n`)).toBe(true);
    expect(parseSeeds(seeds).map((s) => s.id)).toEqual(['s1', 'red-team-f1']);
  });

  it('adds nothing when the same seed is there already, and refuses another seed under its id', () => {
    const once = appendSeed(null, seed).seeds;
    expect(appendSeed(once, seed)).toEqual({ seeds: once, added: false });
    expect(() => appendSeed(once, { ...seed, answer: 'Something else.' })).toThrow(/another seed with id "red-team-f1"/);
  });

  it('refuses to add a line to seeds kept as an InstructLab qna.yaml, naming the problem', () => {
    const qna = [
      'version: 3',
      'domain: privacy',
      'created_by: someone',
      'seed_examples:',
      '  - context: |',
      '      Covered entities must not disclose.',
      '    questions_and_answers:',
      '      - question: May they disclose?',
      '        answer: No.',
    ].join('\n');
    let error: unknown;
    try {
      appendSeed(qna, seed);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SeedAppendError);
    expect((error as SeedAppendError).problem).toBe('instructlab-qna');
  });
});
