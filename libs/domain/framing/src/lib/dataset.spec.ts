import { createHash } from 'node:crypto';
import { buildDatasetVersion, DEFAULT_SYSTEM_PROMPT, toConversationalJsonl, toPreferenceJsonl } from './dataset';
import { Example } from './model';
import { sha256Hex } from './sha256';
import { canonicalJson } from './text';

const qa = (id: string, question: string, rejected: string | null = 'Yes, go ahead.'): Example => ({
  id,
  kind: 'qa',
  source: 'template',
  question,
  answer: 'No. Employees must not accept cash gifts. (§3.1.4)',
  rejected,
  label: null,
  clauseIds: ['d:3.1.4:0123456789ab'],
  clauseRefs: ['3.1.4'],
  statementKind: 'prohibition',
  values: ['legal_compliance', 'honesty'],
});
const sc: Example = {
  ...qa('s1', 'Ana accepts cash. OK?'),
  kind: 'scenario',
  label: 'violating',
  answer: 'No, this violates the guidelines. (§3.1.4)',
};

describe('buildDatasetVersion', () => {
  const split = { train: [qa('b', 'Can I take cash?'), sc], heldOut: [qa('a', 'Is cash fine?', null)] };
  const version = buildDatasetVersion({ contextId: 'northwind', split, clauseIds: ['d:3.1.4:0123456789ab', 'd:3.2:000000000000'] });

  it('hashes the canonical JSON of the sorted examples', () => {
    const train = [...split.train].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(version.sha256).toBe(sha256Hex(canonicalJson({ heldOut: split.heldOut, systemPrompt: DEFAULT_SYSTEM_PROMPT, train })));
    expect(version.id).toBe(`ds-northwind-${version.sha256.slice(0, 12)}`);
    expect(version.train.map((e) => e.id)).toEqual(['b', 's1']);
  });

  it('does not depend on input order but changes with any content', () => {
    const reordered = buildDatasetVersion({ contextId: 'northwind', split: { ...split, train: [...split.train].reverse() } });
    expect(reordered.sha256).toBe(version.sha256);
    const edited = buildDatasetVersion({
      contextId: 'northwind',
      split: { ...split, train: [qa('b', 'Can I take cash, please?'), sc] },
    });
    expect(edited.sha256).not.toBe(version.sha256);
    const moved = buildDatasetVersion({ contextId: 'northwind', split: { train: split.heldOut, heldOut: split.train } });
    expect(moved.sha256).not.toBe(version.sha256);
  });

  it('uses the hash function the caller supplies', () => {
    const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
    expect(buildDatasetVersion({ contextId: 'northwind', split, hash }).sha256).toBe(version.sha256);
    expect(buildDatasetVersion({ contextId: 'northwind', split, hash: () => 'f'.repeat(64) }).id).toBe('ds-northwind-ffffffffffff');
  });

  it('is immutable', () => {
    expect(Object.isFrozen(version)).toBe(true);
    expect(Object.isFrozen(version.train)).toBe(true);
    expect(Object.isFrozen(version.train[0])).toBe(true);
    expect(() => (version.train as Example[]).push(sc)).toThrow(TypeError);
  });

  it('reports counts by kind and clause coverage', () => {
    expect(version.examplesByKind).toEqual({ qa: 2, 'scenario:violating': 1 });
    expect(version.clauseCoverage).toBe(0.5);
  });

  it('refuses a split that leaks held-out questions or repeats an id', () => {
    expect(() => buildDatasetVersion({ contextId: 'c', split: { train: [qa('x', 'Q?')], heldOut: [qa('y', 'q')] } })).toThrow(
      /held-out questions also appear in training/,
    );
    expect(() => buildDatasetVersion({ contextId: 'c', split: { train: [qa('x', 'Q1?')], heldOut: [qa('x', 'Q2?')] } })).toThrow(
      /example id "x" appears twice/,
    );
  });
});

describe('exports', () => {
  it('writes Hugging Face conversational JSON lines', () => {
    const lines = toConversationalJsonl([qa('a', 'Can I take cash?'), sc], 'SYS')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toEqual({
      id: 'a',
      messages: [
        { role: 'system', content: 'SYS' },
        { role: 'user', content: 'Can I take cash?' },
        { role: 'assistant', content: 'No. Employees must not accept cash gifts. (§3.1.4)' },
      ],
      clause_ids: ['d:3.1.4:0123456789ab'],
      kind: 'qa',
      label: null,
    });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ kind: 'scenario', label: 'violating' });
  });

  it('writes preference lines only for examples with a contradicting answer', () => {
    const lines = toPreferenceJsonl([qa('a', 'Can I take cash?'), qa('b', 'Is cash ok?', null)])
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        id: 'a',
        prompt: 'Can I take cash?',
        chosen: 'No. Employees must not accept cash gifts. (§3.1.4)',
        rejected: 'Yes, go ahead.',
        values: ['legal_compliance', 'honesty'],
      },
    ]);
  });
});
