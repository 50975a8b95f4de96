import { describeError, errorCauses, Name, unsafeNameProblem } from './common';

describe('Name', () => {
  it.each([
    ['NUL', 'Conduct\u0000'],
    ['escape', '\u001b[31mred'],
    ['a newline', 'two\nlines'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['right-to-left override', 'invoice\u202Egpj.exe'],
    ['left-to-right embedding', '\u202Aname'],
    ['first-strong isolate', 'x\u2068y'],
    ['pop directional isolate', 'x\u2069'],
    ['left-to-right mark', 'x\u200E'],
    ['right-to-left mark', 'x\u200F'],
  ])('refuses %s, naming the character and where it is', (_what, value) => {
    const parsed = Name().safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(
      /^must not contain control or bidirectional-override characters \(found U\+[0-9A-F]{4}, .* at position \d+\)$/,
    );
  });

  it('accepts ordinary names in any script, and says where the problem is', () => {
    for (const value of ['Northwind conduct', 'Richtlinien für Geschenke', 'سياسة الهدايا', '社内規程 §3', 'emoji 🎁 ok'])
      expect(Name().parse(value)).toBe(value);
    expect(unsafeNameProblem('ab\u202Ec')).toBe(
      'must not contain control or bidirectional-override characters (found U+202E, a bidirectional-text control, at position 3)',
    );
    expect(Name(5).safeParse('toolong').success).toBe(false);
    expect(Name().safeParse('').success).toBe(false);
  });
});

describe('errorCauses', () => {
  it('follows the cause chain and the errors of an AggregateError, keeping codes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
    const refused6 = Object.assign(new Error('connect ECONNREFUSED ::1:8000'), { code: 'ECONNREFUSED' });
    const error = new TypeError('fetch failed', { cause: new AggregateError([refused6, refused]) });
    expect(errorCauses(error)).toEqual([
      { name: 'TypeError', message: 'fetch failed' },
      { name: 'AggregateError', message: '' },
      { name: 'Error', message: 'connect ECONNREFUSED ::1:8000', code: 'ECONNREFUSED' },
      { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:8000', code: 'ECONNREFUSED' },
    ]);
    expect(describeError(error)).toBe('fetch failed: AggregateError: connect ECONNREFUSED ::1:8000: connect ECONNREFUSED 127.0.0.1:8000');
  });

  it('describes what fetch really says about a refused connection', async () => {
    const error = await fetch('http://127.0.0.1:4190/').catch((e: unknown) => e);
    expect(describeError(error)).toBe('fetch failed: bad port');
  });

  it('survives cycles and non-errors', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorCauses(b).map((c) => c.message)).toEqual(['b', 'a']);
    expect(describeError('plain')).toBe('plain');
  });
});
