import { NormativeStatement } from './model';
import { analyseSentence, countStatementsByKind, extractStatements, StatementDraft, statementCoverage } from './statements';
import { parseDocument } from './parse';

const one = (sentence: string): Omit<StatementDraft, 'sentence'> => {
  const drafts = analyseSentence(sentence);
  expect(drafts).toHaveLength(1);
  const { sentence: _s, ...rest } = drafts[0] as StatementDraft;
  return rest;
};

describe('analyseSentence', () => {
  it('"may not" is a prohibition, not a permission', () => {
    expect(one('Employees may not accept cash gifts.')).toMatchObject({
      kind: 'prohibition',
      actor: 'Employees',
      action: 'accept cash gifts',
      modality: 'may not',
    });
  });

  it('"must not", "shall not", "cannot" and "must never" are prohibitions', () => {
    expect(one('Employees must not share passwords.')).toMatchObject({ kind: 'prohibition', modality: 'must not' });
    expect(one('Contractors shall not install software.')).toMatchObject({ kind: 'prohibition', modality: 'shall not' });
    expect(one('Visitors cannot enter the lab.')).toMatchObject({ kind: 'prohibition', action: 'enter the lab' });
    expect(one('Employees must never solicit a Gift.')).toMatchObject({ kind: 'prohibition', action: 'solicit a Gift' });
  });

  it('"never" on its own, and an imperative "Do not", are prohibitions', () => {
    expect(one('Never share your password.')).toMatchObject({ kind: 'prohibition', actor: null, action: 'share your password' });
    expect(one('Employees never discuss bids with competitors.')).toMatchObject({
      kind: 'prohibition',
      actor: 'Employees',
      action: 'discuss bids with competitors',
    });
    expect(one('Do not click on links in such messages.')).toMatchObject({ kind: 'prohibition', modality: 'do not' });
  });

  it('"no employee shall" is a prohibition addressed to every employee', () => {
    expect(one('No employee shall dismiss a colleague for raising a concern.')).toMatchObject({
      kind: 'prohibition',
      actor: 'any employee',
      action: 'dismiss a colleague for raising a concern',
      modality: 'no … shall',
    });
    expect(one('No one may take a bribe.')).toMatchObject({ kind: 'prohibition', actor: 'anyone', action: 'take a bribe' });
  });

  it('"is prohibited" makes the subject the prohibited act; "prohibited from" keeps the actor', () => {
    expect(one('Facilitation Payments are prohibited, even where they are customary.')).toMatchObject({
      kind: 'prohibition',
      actor: null,
      action: 'Facilitation Payments',
      actionForm: 'noun',
      condition: 'even where they are customary',
    });
    expect(one('Insiders are prohibited from trading during closed periods.')).toMatchObject({
      kind: 'prohibition',
      actor: 'Insiders',
      action: 'trading during closed periods',
    });
    expect(one('Retaliation is strictly prohibited.')).toMatchObject({ kind: 'prohibition', action: 'Retaliation' });
  });

  it('"is not required to" and "need not" are exceptions (carve-outs from a duty), not obligations', () => {
    expect(one('Managers are not required to answer every question personally.')).toMatchObject({
      kind: 'exception',
      actor: 'Managers',
      action: 'answer every question personally',
      modality: 'are not required to',
    });
    expect(one('Promotional items need not be recorded.')).toMatchObject({
      kind: 'exception',
      action: 'be recorded',
      modality: 'need not',
    });
    expect(one('Employees do not need to ask for approval.')).toMatchObject({ kind: 'exception' });
  });

  it('"is permitted", "are free to" and "may" are permissions', () => {
    expect(one('Official fees are permitted.')).toMatchObject({ kind: 'permission', action: 'Official fees', actionForm: 'noun' });
    expect(one('Employees are free to take part in politics.')).toMatchObject({ kind: 'permission', action: 'take part in politics' });
    expect(one('Employees are permitted to work from home.')).toMatchObject({ kind: 'permission', action: 'work from home' });
  });

  it('"employees may accept gifts up to $100" is a permission with a condition', () => {
    expect(one('Employees may accept gifts up to $100.')).toEqual({
      kind: 'permission',
      actor: 'Employees',
      action: 'accept gifts',
      actionForm: 'verb',
      condition: 'up to $100',
      exception: null,
      modality: 'may',
    });
  });

  it('"must", "shall" and "are required to" are obligations', () => {
    expect(one('Employees must report breaches within 24 hours.')).toMatchObject({ kind: 'obligation', modality: 'must' });
    expect(one('The Ethics Office shall review these Guidelines annually.')).toMatchObject({
      kind: 'obligation',
      actor: 'The Ethics Office',
      action: 'review these Guidelines annually',
      modality: 'shall',
    });
    expect(one('Employees are required to record every Gift with a value above $50.')).toMatchObject({
      kind: 'obligation',
      action: 'record every Gift',
      condition: 'with a value above $50',
      modality: 'are required to',
    });
  });

  it('"unless …" attaches an exception to the main statement', () => {
    expect(one('Employees must not accept any Gift above $500 unless the Ethics Office has approved it in writing.')).toEqual({
      kind: 'prohibition',
      actor: 'Employees',
      action: 'accept any Gift',
      actionForm: 'verb',
      condition: 'above $500',
      exception: 'unless the Ethics Office has approved it in writing',
      modality: 'must not',
    });
    expect(one('Unless the law forbids it, employees must inform Legal first.')).toMatchObject({
      kind: 'obligation',
      actor: 'employees',
      exception: 'unless the law forbids it',
    });
  });

  it('"except where …" attaches an exception to the main statement', () => {
    expect(one('Personal Data may not be transferred abroad except where an approved mechanism is in place.')).toMatchObject({
      kind: 'prohibition',
      actor: 'Personal Data',
      action: 'be transferred abroad',
      exception: 'except where an approved mechanism is in place',
    });
  });

  it('leading and trailing conditions become the condition', () => {
    expect(one('If a Gift cannot be accepted, the Employee must politely return it.')).toMatchObject({
      kind: 'obligation',
      actor: 'the Employee',
      action: 'politely return it',
      condition: 'if a Gift cannot be accepted',
    });
    expect(one('When an individual asks to access, correct or delete their data, the Employee must forward the request.')).toMatchObject({
      actor: 'the Employee',
      condition: 'when an individual asks to access, correct or delete their data',
    });
    expect(one('Employees may trade shares, provided that they hold no Inside Information.')).toMatchObject({
      kind: 'permission',
      action: 'trade shares',
      condition: 'provided that they hold no Inside Information',
    });
  });

  it('"X means …" and "\'X\' is defined as …" are definitions', () => {
    expect(one('"Company" means Northwind Dynamics and its subsidiaries.')).toEqual({
      kind: 'definition',
      actor: 'Company',
      action: 'Northwind Dynamics and its subsidiaries',
      actionForm: 'noun',
      condition: null,
      exception: null,
      modality: 'means',
    });
    expect(one("'Facilitation Payment' is defined as a small unofficial payment to an official.")).toMatchObject({
      kind: 'definition',
      actor: 'Facilitation Payment',
      modality: 'is defined as',
    });
    expect(one('Harassment means unwanted conduct that violates dignity.')).toMatchObject({ kind: 'definition', actor: 'Harassment' });
    expect(analyseSentence('This means that you must ask.')[0]?.kind).toBe('obligation');
  });

  it('"does not apply" and "nothing … prohibits" are exceptions', () => {
    expect(one('The prohibition on Facilitation Payments does not apply where an Employee faces a threat to their safety.')).toMatchObject({
      kind: 'exception',
      action: 'The prohibition on Facilitation Payments',
      condition: 'where an Employee faces a threat to their safety',
    });
    expect(one('Nothing in these Guidelines prohibits an Employee from reporting to a regulator.')).toMatchObject({
      kind: 'exception',
    });
    expect(one('Promotional items are exempt from the thresholds.')).toMatchObject({ kind: 'exception' });
  });

  it('splits a sentence with two clauses into two statements sharing the actor', () => {
    const drafts = analyseSentence(
      'Employees may exercise stock options during a closed period, but they may not sell the shares until it has ended.',
    );
    expect(drafts.map((d) => [d.kind, d.actor, d.action])).toEqual([
      ['permission', 'Employees', 'exercise stock options during a closed period'],
      ['prohibition', 'Employees', 'sell the shares until it has ended'],
    ]);
    const two = analyseSentence('Managers must lead by example and must not retaliate.');
    expect(two.map((d) => [d.kind, d.actor, d.action])).toEqual([
      ['obligation', 'Managers', 'lead by example'],
      ['prohibition', 'Managers', 'retaliate'],
    ]);
    const semi = analyseSentence('Employees may accept flowers; they must record them in the register.');
    expect(semi.map((d) => d.kind)).toEqual(['permission', 'obligation']);
    expect(semi[1]?.actor).toBe('Employees');
  });

  it('ignores descriptive sentences and "may" of possibility', () => {
    expect(analyseSentence('Violations may result in disciplinary action.')).toEqual([]);
    expect(analyseSentence('Northwind Dynamics is a listed company.')).toEqual([]);
  });
});

describe('extractStatements', () => {
  const tree = parseDocument(
    `# Policy\n\nIntro: everyone must read this.\n\n## 1. Gifts\n\n**1.1** Employees may accept gifts up to $100. They must record them.\n\n**1.2** The following are prohibited:\n\n- (a) cash gifts;\n- (b) gifts during a tender.\n\n> **Q&A**\n> **Q:** May I?\n> **A:** No, you must not (§1.2).\n`,
    { documentId: 'p' },
  );
  const statements = extractStatements(tree);

  it('ties each statement to its clause with a stable id', () => {
    expect(statements.map((s) => [s.id.replace(/:[0-9a-f]{12}:/, ':#:'), s.kind, s.action])).toEqual([
      ['p:policy.p1:#:s1', 'obligation', 'read this'],
      ['p:1.1:#:s1', 'permission', 'accept gifts'],
      ['p:1.1:#:s2', 'obligation', 'record them'],
      ['p:1.2.a:#:s1', 'prohibition', 'cash gifts'],
      ['p:1.2.b:#:s1', 'prohibition', 'gifts during a tender'],
    ]);
    expect(statements[1]?.actor).toBe('Employees');
  });

  it('lets list items inherit the rule their paragraph introduces, reads unnumbered intros and skips call-outs', () => {
    expect(statements.every((s) => tree.clauses.some((c) => c.id === s.clauseId && c.kind !== 'qa'))).toBe(true);
    expect(countStatementsByKind(statements)).toEqual({ obligation: 2, prohibition: 2, permission: 1, exception: 0, definition: 0 });
  });
});

describe('statements of a regulation (lead-ins, lists of conditions, carve-outs)', () => {
  const md = [
    '## § 9.1 Uses.',
    '',
    '(a) *Standard.* A covered entity may not use records, except as permitted by this subpart.',
    '',
    '(1) *Permitted uses.* A covered entity is permitted to use or disclose records as follows:',
    '',
    '(i) To the individual;',
    '',
    '(ii) For treatment, as permitted by and in compliance with § 9.6; and',
    '',
    '(2) *Exceptions.* This requirement does not apply to:',
    '',
    '(i) Disclosures to the Secretary.',
    '',
    '(b) *Terminating.* A covered entity may terminate a restriction, if:',
    '',
    '(1) The individual agrees to the termination in writing; or',
    '',
    '(2) The covered entity informs the individual.',
    '',
    '(c) *Accepted amendments.* If the covered entity accepts the amendment, the covered entity must comply with the following requirements.',
    '',
    '(1) The covered entity must make the amendment.',
    '',
    '(2) It must inform the individual within a reasonable time.',
    '',
    '(d) *Retaliation.* A covered entity\u2014',
    '',
    '(1) May not intimidate any individual; and',
    '',
    '(2) Must refrain from retaliation.',
    '',
    '(e) *Definitions.* For purposes of this section, sale of records means:',
    '',
    '(1) A disclosure of records for remuneration.',
    '',
    '(f) *Business associates.* A business associate may use records only as permitted by its contract.',
    '',
    '(g) *Representatives.* If under applicable law an executor or other person has authority to act, a covered entity must treat such person as a representative, except that, if the individual objects, the covered entity may refuse.',
    '',
    '(h) *Plans.* A health plan, excluding an issuer of a long-term care policy, shall not use genetic information. A health plan must keep records.',
  ].join('\n');
  const tree = parseDocument(md, { documentId: 'reg', mediaType: 'text/markdown' });
  const statements = extractStatements(tree);
  const at = (n: string): NormativeStatement[] => statements.filter((s) => s.clauseNumbering === n);
  const one = (n: string): NormativeStatement => {
    const found = at(n);
    expect(found).toHaveLength(1);
    return found[0] as NormativeStatement;
  };

  it('lets each item complete its lead-in, which is not a statement of its own', () => {
    expect(at('9.1(a)(1)')).toEqual([]);
    expect(one('9.1(a)(1)(i)')).toMatchObject({
      kind: 'permission',
      actor: 'A covered entity',
      action: 'use or disclose records to the individual',
      condition: null,
    });
    expect(one('9.1(a)(1)(ii)')).toMatchObject({
      kind: 'permission',
      action: 'use or disclose records for treatment',
      condition: 'as permitted by and in compliance with § 9.6',
    });
    expect(one('9.1(a)(2)(i)')).toMatchObject({
      kind: 'exception',
      action: 'This requirement does not apply to disclosures to the Secretary',
    });
    // "This requirement" binds no one: the party comes from the paragraph above.
    expect(one('9.1(a)(2)(i)').party).toBe('A covered entity');
  });

  it('folds a list of conditions into the statement of its lead-in', () => {
    expect(one('9.1(b)')).toMatchObject({
      kind: 'permission',
      action: 'terminate a restriction',
      condition: '(1) The individual agrees to the termination in writing; or (2) The covered entity informs the individual',
    });
    expect(at('9.1(b)(1)')).toEqual([]);
    const coverage = statementCoverage(tree);
    expect(coverage.uncovered).not.toContain('9.1(b)(1)'); // folded into (b)'s condition
    expect(coverage.uncovered).not.toContain('9.1(a)(1)'); // carried by its items
  });

  it('carries a lead-in’s condition to the rules under it, and a subject to items that lack one', () => {
    expect(at('9.1(c)')).toEqual([]); // "must comply with the following requirements" only points to them
    expect(one('9.1(c)(1)')).toMatchObject({ kind: 'obligation', condition: 'If the covered entity accepts the amendment' });
    expect(one('9.1(c)(2)')).toMatchObject({
      actor: 'the covered entity', // "It" resolved to the subject of the lead-in
      condition: 'If the covered entity accepts the amendment; within a reasonable time',
    });
    expect(one('9.1(d)(1)')).toMatchObject({ kind: 'prohibition', actor: 'A covered entity', action: 'intimidate any individual' });
    expect(one('9.1(d)(2)')).toMatchObject({ kind: 'obligation', actor: 'A covered entity', action: 'refrain from retaliation' });
  });

  it('reads definitions in lists, "may … only", "except that" and "excluding"', () => {
    expect(one('9.1(e)(1)')).toMatchObject({
      kind: 'definition',
      actor: 'sale of records',
      action: 'a disclosure of records for remuneration',
    });
    expect(one('9.1(f)')).toMatchObject({
      kind: 'prohibition',
      modality: 'may … only',
      action: 'use records only as permitted by its contract',
    });
    const [duty, carveOut] = at('9.1(g)') as [NormativeStatement, NormativeStatement];
    expect(duty).toMatchObject({ kind: 'obligation', action: 'treat an executor or other person as a representative' });
    expect(carveOut).toMatchObject({ kind: 'exception', modality: 'except that', condition: 'if the individual objects' });
    const h = at('9.1(h)');
    expect(h.map((s) => [s.kind, s.party])).toEqual([
      ['prohibition', 'A health plan'],
      ['exception', 'an issuer of a long-term care policy'],
      ['obligation', 'A health plan'],
    ]);
  });
});
