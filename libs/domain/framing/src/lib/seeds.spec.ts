import { SeedImportError } from './errors';
import { parseDocument } from './parse';
import { SeedsJsonl } from './seed-sources';
import { importSeeds, normaliseClauseRef, parseSeeds } from './seeds';

const tree = parseDocument(
  '## 3. Gifts\n\n**3.1** Employees may accept gifts up to $100.\n\n**3.2** The following are prohibited:\n\n- (a) cash;\n- (b) vouchers.\n',
  { documentId: 'doc' },
);
const idOf = (n: string): string => tree.clauses.find((c) => c.numbering === n)?.id as string;

const line = (o: Record<string, unknown>): string => JSON.stringify(o);

describe('importSeeds', () => {
  it('turns seed lines into examples with clause refs resolved to clause ids', () => {
    const jsonl = [
      line({ id: 's1', kind: 'qa', question: 'May I accept a $50 gift?', answer: 'Yes (§3.1).', clause_refs: ['3.1'] }),
      '',
      line({
        id: 's2',
        kind: 'scenario',
        label: 'violating',
        question: 'Ana accepts a $20 voucher. OK?',
        answer: 'No (§3.2(b)).',
        clause_refs: ['§3.2(b)', '3.2'],
      }),
    ].join('\n');
    const [a, b] = importSeeds(jsonl, tree);
    expect(a).toMatchObject({ id: 'seed-doc-s1', source: 'seed', label: null, clauseIds: [idOf('3.1')], clauseRefs: ['3.1'] });
    expect(a?.rejected).toBe('No. The rules do not allow this.');
    expect(b).toMatchObject({ label: 'violating', clauseIds: [idOf('3.2(b)'), idOf('3.2')], clauseRefs: ['3.2(b)', '3.2'] });
    expect(b?.rejected).toBe('Yes, this is fine under the rules.');
  });

  it('names the line and the reference when a clause ref is unknown', () => {
    const jsonl = [
      line({ id: 's1', kind: 'qa', question: 'q', answer: 'a', clause_refs: ['3.1'] }),
      line({ id: 's2', kind: 'qa', question: 'q2', answer: 'a', clause_refs: ['3.1', '9.9.9'] }),
    ].join('\n');
    expect(() => importSeeds(jsonl, tree)).toThrow(SeedImportError);
    expect(() => importSeeds(jsonl, tree)).toThrow(
      'seeds line 2: seed "s2" cites unknown clause ref "9.9.9": no clause numbered "9.9.9" in document doc',
    );
  });

  it('rejects invalid JSON, missing fields, label mistakes and duplicate ids', () => {
    expect(() => importSeeds('{"id":', tree)).toThrow(/seeds line 1: not valid JSON/);
    expect(() => importSeeds(line({ id: 's', kind: 'qa', question: 'q', answer: 'a', clause_refs: [] }), tree)).toThrow(
      /clause_refs: needs at least one clause reference/,
    );
    expect(() => importSeeds(line({ id: 's', kind: 'qa', answer: 'a', clause_refs: ['3.1'] }), tree)).toThrow(/question/);
    expect(() => importSeeds(line({ id: 's', kind: 'scenario', question: 'q', answer: 'a', clause_refs: ['3.1'] }), tree)).toThrow(
      /needs a label/,
    );
    expect(() =>
      importSeeds(line({ id: 's', kind: 'qa', label: 'compliant', question: 'q', answer: 'a', clause_refs: ['3.1'] }), tree),
    ).toThrow(/must not have a label/);
    const dup = line({ id: 's', kind: 'qa', question: 'q', answer: 'a', clause_refs: ['3.1'] });
    expect(() => importSeeds(`${dup}\n${dup}`, tree)).toThrow(/seeds line 2: duplicate seed id "s"/);
  });
});

describe('parseSeeds / SeedsJsonl', () => {
  const ok = line({ id: 's1', kind: 'qa', question: 'q', answer: 'a', clause_refs: ['9.9'] });

  it('checks the lines without a document: clause references are left for importSeeds', () => {
    expect(parseSeeds(`${ok}\n\n`)).toEqual([{ id: 's1', kind: 'qa', question: 'q', answer: 'a', clause_refs: ['9.9'] }]);
    expect(SeedsJsonl.safeParse('').success).toBe(true);
  });

  it('names the line and the problem of seeds that are not JSON lines', () => {
    expect(() => parseSeeds(`${ok}\nnot json at all`)).toThrow(/^seeds line 2: not valid JSON \(/);
    const parsed = SeedsJsonl.safeParse(`${ok}\n${line({ id: 's2', kind: 'scenario', question: 'q', answer: 'a', clause_refs: ['1'] })}`);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      'seeds line 2: scenario seed "s2" needs a label: compliant, violating or ambiguous',
    ]);
    expect(SeedsJsonl.safeParse('["a list"]').error?.issues[0]?.message).toMatch(/^seeds line 1: line: Invalid input/);
  });
});

describe('normaliseClauseRef', () => {
  it('accepts §, lettered and dotted forms', () => {
    expect(normaliseClauseRef(' §3.1.4(b) ')).toBe('3.1.4.b');
    expect(normaliseClauseRef('3.1.4.B')).toBe('3.1.4.b');
  });
});
