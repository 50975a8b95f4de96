import { Example } from './model';
import { assertNoLeak, splitDataset } from './split';
import { normaliseQuestion } from './text';

function ex(id: string, question: string, clause: string): Example {
  return {
    id,
    kind: 'qa',
    source: 'template',
    question,
    answer: `Answer (§${clause}).`,
    rejected: null,
    label: null,
    clauseIds: [`d:${clause}:abcdefabcdef`],
    clauseRefs: [clause],
    statementKind: 'obligation',
    values: [],
  };
}

const examples: Example[] = [];
for (let c = 1; c <= 12; c++) {
  for (let q = 1; q <= 5; q++) examples.push(ex(`e${c}-${q}`, `Question ${q} about clause ${c}?`, `1.${c}`));
  // the same question, differently punctuated, under another id
  examples.push(ex(`e${c}-dup`, `question 1 about CLAUSE ${c}`, `1.${c}`));
}
examples.push(ex('lonely', 'A question about a clause with one example?', '9.1'));

describe('splitDataset', () => {
  const split = splitDataset(examples, { heldOutRatio: 0.2, seed: 7 });

  it('keeps every example exactly once', () => {
    expect(split.train.length + split.heldOut.length).toBe(examples.length);
    expect(new Set([...split.train, ...split.heldOut].map((e) => e.id)).size).toBe(examples.length);
  });

  it('never puts a held-out question (normalised) in training', () => {
    const train = new Set(split.train.map((e) => normaliseQuestion(e.question)));
    expect(split.heldOut.some((e) => train.has(normaliseQuestion(e.question)))).toBe(false);
    const dupHeldOut = split.heldOut.filter((e) => e.id.endsWith('-dup'));
    for (const d of dupHeldOut) expect(split.heldOut.some((e) => e.id === d.id.replace('-dup', '-1'))).toBe(true);
  });

  it('holds out the requested share of distinct questions, stratified by clause', () => {
    const distinct = new Set(split.heldOut.map((e) => normaliseQuestion(e.question)));
    expect(distinct.size).toBe(Math.round(0.2 * 61));
    for (let c = 1; c <= 12; c++) {
      const inTrain = split.train.filter((e) => e.clauseRefs[0] === `1.${c}`).length;
      const heldOut = split.heldOut.filter((e) => e.clauseRefs[0] === `1.${c}`).length;
      expect(inTrain).toBeGreaterThan(0);
      expect(heldOut).toBeGreaterThan(0);
    }
    expect(split.train.some((e) => e.id === 'lonely')).toBe(true);
  });

  it('is seeded and independent of input order', () => {
    const again = splitDataset([...examples].reverse(), { heldOutRatio: 0.2, seed: 7 });
    expect(again).toEqual(split);
    const other = splitDataset(examples, { heldOutRatio: 0.2, seed: 8 });
    expect(other.heldOut.map((e) => e.id)).not.toEqual(split.heldOut.map((e) => e.id));
  });

  it('rejects a ratio outside [0, 1)', () => {
    expect(() => splitDataset(examples, { heldOutRatio: 1, seed: 1 })).toThrow(/heldOutRatio must be in \[0, 1\)/);
    expect(splitDataset(examples, { heldOutRatio: 0, seed: 1 }).heldOut).toEqual([]);
  });
});

describe('assertNoLeak', () => {
  it('detects a held-out question that is also in training', () => {
    expect(() => assertNoLeak({ train: [ex('a', 'Can I keep it?', '1')], heldOut: [ex('b', 'can i keep it', '1')] })).toThrow(
      /1 held-out questions also appear in training/,
    );
  });
});
