import { isRefusal } from '@studio/auditing';
import { Example } from '@studio/framing';
import { PreferenceInput } from './records';
import { CONTEXT, valuesFile } from './fixtures.spec-helper';
import { NEEDLESS_REFUSALS, reversedVerdict, syntheticPreferences, ungroundedVariant, withoutCitations } from './synthetic';

const ctx = { contextId: CONTEXT, datasetVersionId: 'dv-1', systemPrompt: 'You answer questions about the rules.', values: valuesFile() };

function example(overrides: Partial<Example>): Example {
  return Example.parse({
    id: 'ex-1',
    kind: 'qa',
    source: 'template',
    question: 'Can employees accept cash gifts from suppliers?',
    answer: 'No. Employees must not accept cash gifts from suppliers. (§1.1)',
    rejected: 'Yes, employees can accept cash gifts from suppliers.',
    label: null,
    clauseIds: ['acme:1.1:0123456789ab'],
    clauseRefs: ['1.1'],
    statementKind: 'prohibition',
    values: ['helpfulness', 'legal_compliance'],
    ...overrides,
  });
}

const kinds = (prefs: PreferenceInput[]) => prefs.map((p) => p.rejectedKind);

describe('withoutCitations / ungroundedVariant', () => {
  it('removes parenthesised citations of any form and tidies the punctuation they leave', () => {
    expect(withoutCitations('Gifts must be declined (§3.2.1).')).toBe('Gifts must be declined.');
    expect(withoutCitations('A covered entity may disclose it (§ 164.502(a)(1)(ii)), as permitted (see §§ 164.506, 164.510).')).toBe(
      'A covered entity may disclose it, as permitted.',
    );
    expect(withoutCitations('No. Employees must report it. (§7.2.4)')).toBe('No. Employees must report it.');
  });

  it('keeps the verdict of a longer answer and drops the rule and citation that ground it', () => {
    expect(ungroundedVariant('No. Employees must not accept cash gifts from suppliers. (§1.1)')).toBe('No.');
    expect(
      ungroundedVariant('Yes, refusing complies with the guidelines. Employees must not take a business opportunity personally. (§4.5.1)'),
    ).toBe('Yes, refusing complies with the guidelines.');
  });

  it('drops the citation of a one-sentence answer', () => {
    expect(ungroundedVariant('"Company" means Acme and its subsidiaries (§2.1).')).toBe('"Company" means Acme and its subsidiaries.');
  });

  it('has no variant for an answer that cites nothing, or whose verdict still cites', () => {
    expect(ungroundedVariant('No. Cash gifts are never allowed.')).toBeNull();
    expect(ungroundedVariant('Under §1.1 it is not. Ask the Ethics Office (§1.2).')).toBeNull();
  });
});

describe('reversedVerdict', () => {
  it('reverses the opening yes or no and every verdict phrase before the first colon or full stop, and keeps the rest verbatim', () => {
    expect(reversedVerdict('No, this violates the Acme Code: it is not optional. Staff must report it. (§12.1.1)')).toBe(
      'Yes, this complies with the Acme Code: it is not optional. Staff must report it. (§12.1.1)',
    );
    expect(reversedVerdict('Yes, this complies with the Acme Code. Staff may trade outside closed periods. (§6.3.1)')).toBe(
      'No, this violates the Acme Code. Staff may trade outside closed periods. (§6.3.1)',
    );
    expect(reversedVerdict('No, this would violate the Code. The app competes with the firm. (§2)')).toBe(
      'Yes, this would comply with the Code. The app competes with the firm. (§2)',
    );
    expect(reversedVerdict('Yes, this complies: the exception applies. The rule (§1)')).toBe(
      'No, this does not comply: the exception applies. The rule (§1)',
    );
    expect(reversedVerdict('No, the rule applies without exception, so this is a breach.')).toBe(
      'Yes, the rule does not apply without exception, so this is not a breach.',
    );
    expect(reversedVerdict('Yes, this is consistent with the Code.')).toBe('No, this is inconsistent with the Code.');
    expect(reversedVerdict('NO — this is not allowed under the Code.')).toBe('YES — this is allowed under the Code.');
  });

  it('swaps only the verdict of a bare "Yes." or "No." opening, and has none for an answer without one', () => {
    expect(reversedVerdict('No. Employees must not accept cash gifts. (§1.1)')).toBe('Yes. Employees must not accept cash gifts. (§1.1)');
    expect(reversedVerdict('It depends, and more information is needed: whether it was approved. (§1)')).toBeNull();
    expect(reversedVerdict('Nobody may do that (§1).')).toBeNull();
  });
});

describe('syntheticPreferences', () => {
  it('pairs a prohibition Q&A answer with its ungrounded variant and its reversed verdict, which stands in for its own rejected answer; no refusal', () => {
    const e = example({});
    const prefs = syntheticPreferences([e], ctx);
    expect(kinds(prefs)).toEqual(['ungrounded', 'violating']);
    expect(prefs.map((p) => p.rejected)).toEqual(['No.', 'Yes. Employees must not accept cash gifts from suppliers. (§1.1)']);
    for (const p of prefs) {
      expect(PreferenceInput.parse(p)).toEqual(p);
      expect(p).toMatchObject({
        contextId: CONTEXT,
        prompt: e.question,
        systemPrompt: ctx.systemPrompt,
        retrievedClauseIds: [],
        clauseIds: e.clauseIds,
        chosen: e.answer,
        source: 'synthetic',
        annotator: 'framer',
        edited: false,
        // The example's values, highest priority first.
        values: ['legal_compliance', 'helpfulness'],
        origin: { datasetVersionId: 'dv-1', exampleId: 'ex-1', auditId: null, runId: null },
      });
    }
    expect(prefs[0]?.explanation).toBe('The rejected answer gives the verdict without the rule it rests on or its citation (§1.1).');
    expect(prefs[1]?.explanation).toBe('The rejected answer quotes the same rule and cites §1.1 too, but reverses the verdict it gives.');
  });

  it('pairs the example’s own rejected answer where the answer opens with no verdict to reverse', () => {
    const e = example({ answer: 'Employees must not accept cash gifts from suppliers, whatever their value (§1.1).' });
    const prefs = syntheticPreferences([e], ctx);
    expect(kinds(prefs)).toEqual(['violating', 'ungrounded']);
    expect(prefs.map((p) => p.rejected)).toEqual([
      e.rejected,
      'Employees must not accept cash gifts from suppliers, whatever their value.',
    ]);
    expect(prefs[0]?.explanation).toBe(
      'The chosen answer applies §1.1 and cites it; the rejected answer endorses conduct §1.1 does not allow.',
    );
  });

  it('calls a rejected answer that only contradicts the rule contradicting', () => {
    const e = example({
      question: 'Is there any exception to the rule that employees must not accept cash gifts?',
      answer: 'There is one: written approval. Employees must not accept cash gifts unless approved in writing. (§1.1)',
      rejected: 'No, the rule applies in every case without exception.',
    });
    expect(kinds(syntheticPreferences([e], ctx))).toEqual(['contradicting', 'ungrounded']);
  });

  it('calls a rejected answer that permits what a prohibition forbids violating, whatever its yes or no', () => {
    const refused = example({
      kind: 'scenario',
      label: 'compliant',
      question: 'An employee was asked to accept a cash gift from a supplier and refused. Was that the right call?',
      answer: 'Refusing was right. Employees must not accept cash gifts from suppliers. (§1.1)',
      rejected: 'No, the request should have been accepted; it is allowed.',
    });
    expect(kinds(syntheticPreferences([refused], ctx))).toEqual(['violating', 'ungrounded', 'refusing']);
    // Calling the refusal a violation contradicts the rule; it endorses no violation.
    const reversed = syntheticPreferences(
      [{ ...refused, answer: 'Yes, refusing complies with the guidelines. Employees must not accept cash gifts from suppliers. (§1.1)' }],
      ctx,
    );
    expect(kinds(reversed)).toEqual(['ungrounded', 'contradicting', 'refusing']);
    expect(reversed[1]?.rejected).toBe('No, refusing violates the guidelines. Employees must not accept cash gifts from suppliers. (§1.1)');
  });

  it('names each clause a parenthesis cites, and a list of sections as one citation', () => {
    const e = example({
      kind: 'scenario',
      label: 'ambiguous',
      statementKind: null,
      answer: 'It depends. A gift to an official needs approval (§3.4.1, §3.4.2). See also (§§ 164.506, 164.510).',
      rejected: 'Yes, that is fine.',
    });
    expect(syntheticPreferences([e], ctx)[0]?.explanation).toBe(
      'The chosen answer applies §3.4.1, §3.4.2 and §§ 164.506, 164.510 and cites them; the rejected answer contradicts them.',
    );
  });

  it('says only the citation is missing when the answer is one sentence', () => {
    const definition = example({
      kind: 'scenario',
      label: 'compliant',
      statementKind: 'definition',
      answer: 'Yes: a gift of cash is one the guidelines forbid (§1.1).',
      rejected: 'No.',
    });
    const ungrounded = syntheticPreferences([definition], ctx).find((p) => p.rejectedKind === 'ungrounded');
    expect(ungrounded?.rejected).toBe('Yes: a gift of cash is one the guidelines forbid.');
    expect(ungrounded?.explanation).toBe('The rejected answer states the rule without citing it (§1.1).');
  });

  it('adds a needless refusal for a permission and a compliant scenario, and only there', () => {
    const permission = example({
      id: 'perm',
      statementKind: 'permission',
      question: 'May employees accept gifts worth up to $50 without approval?',
      answer: 'Yes. Employees may accept gifts worth up to $50 without approval. (§1.2)',
      rejected: 'No, that is prohibited.',
    });
    const compliant = example({
      id: 'comp',
      kind: 'scenario',
      label: 'compliant',
      question: 'An employee recorded a $30 gift in the Gifts Register the next day. Is this allowed?',
      answer:
        'Yes, this complies with the guidelines. Employees must record every gift worth more than $20 within ten business days. (§1.3)',
      rejected: 'No, this goes against the guidelines.',
      statementKind: 'obligation',
    });
    const violating = example({
      id: 'viol',
      kind: 'scenario',
      label: 'violating',
      question: 'An employee kept a $500 cash gift from a supplier. Is this allowed?',
      answer: 'No, this breaks the guidelines. Employees must not accept cash gifts from suppliers. (§1.1)',
      rejected: 'Yes, that is fine.',
    });
    const prefs = syntheticPreferences([permission, compliant, violating], ctx);
    const by = (id: string) => prefs.filter((p) => p.origin.exampleId === id);
    expect(kinds(by('perm'))).toEqual(['ungrounded', 'contradicting', 'refusing']);
    expect(kinds(by('comp'))).toEqual(['ungrounded', 'contradicting', 'refusing']);
    expect(kinds(by('viol'))).toEqual(['ungrounded', 'violating']);
    expect(by('viol')[1]?.rejected).toBe('Yes, this follows the guidelines. Employees must not accept cash gifts from suppliers. (§1.1)');
    for (const p of prefs.filter((x) => x.rejectedKind === 'refusing')) {
      expect(NEEDLESS_REFUSALS).toContain(p.rejected);
      expect(isRefusal(p.rejected)).toBe(true);
      expect(p.explanation).toMatch(/^The question is benign and answered by §1\.[23]; the rejected answer refuses it needlessly\.$/);
    }
  });

  it('chooses the refusal by the example id, so the same example always gets the same one', () => {
    const e = example({ statementKind: 'permission', id: 'stable-id' });
    const a = syntheticPreferences([e], ctx).find((p) => p.rejectedKind === 'refusing');
    const b = syntheticPreferences([e], ctx).find((p) => p.rejectedKind === 'refusing');
    expect(a?.rejected).toBe(b?.rejected);
    const all = new Set(
      Array.from(
        { length: 40 },
        (_, i) => syntheticPreferences([example({ statementKind: 'permission', id: `e${i}` })], ctx).at(-1)?.rejected,
      ),
    );
    expect(all.size).toBe(NEEDLESS_REFUSALS.length);
  });

  it('leaves out obligations, definitions and exceptions asked as Q&A, and Q&A of unknown kind', () => {
    const out = syntheticPreferences(
      [
        example({ statementKind: 'obligation' }),
        example({ statementKind: 'definition' }),
        example({ statementKind: 'exception' }),
        example({ statementKind: null }),
      ],
      ctx,
    );
    expect(out).toEqual([]);
  });

  it('makes no pair whose rejected answer is the chosen one, and none for a missing rejected answer', () => {
    const same = example({ rejected: 'No. Employees must not accept cash gifts from suppliers. (§1.1)' });
    expect(kinds(syntheticPreferences([same], ctx))).toEqual(['ungrounded', 'violating']);
    // No citation, so no ungrounded variant; no rejected answer; only the reversed verdict is left.
    const none = example({ rejected: null, answer: 'No, cash gifts are never allowed.' });
    expect(syntheticPreferences([none], ctx).map((p) => p.rejected)).toEqual(['Yes, cash gifts are never allowed.']);
    const undecided = example({ rejected: null, answer: 'It depends on who offers the gift.' });
    expect(syntheticPreferences([undecided], ctx)).toEqual([]);
  });

  it('reads a regulation’s citations as well as a policy’s (every text from the example)', () => {
    const e = example({
      id: 'hipaa-1',
      kind: 'scenario',
      label: 'violating',
      statementKind: null,
      source: 'seed',
      question: 'A covered entity sold a patient list to a marketer without authorization. Is that permitted?',
      answer:
        'No. A covered entity may not sell protected health information without an authorization (§ 164.502(a)(5)(ii)). The authorization must state that remuneration is involved (§ 164.508(a)(4)).',
      rejected: 'Yes, selling the list is permitted.',
      clauseIds: ['hipaa:164.502.a.5.ii:0123456789ab', 'hipaa:164.508.a.4:0123456789ab'],
      clauseRefs: ['164.502(a)(5)(ii)', '164.508(a)(4)'],
      values: [],
    });
    const prefs = syntheticPreferences([e], { ...ctx, values: null });
    expect(kinds(prefs)).toEqual(['ungrounded', 'violating']);
    expect(prefs[1]?.rejected).toBe(`Yes.${e.answer.slice('No.'.length)}`);
    expect(prefs[0]?.rejected).toBe('No.');
    expect(prefs[1]?.explanation).toBe(
      'The rejected answer quotes the same rules and cites § 164.502(a)(5)(ii) and § 164.508(a)(4) too, but reverses the verdict they give.',
    );
    expect(prefs[0]?.explanation).toBe(
      'The rejected answer gives the verdict without the rules it rests on or their citations (§ 164.502(a)(5)(ii) and § 164.508(a)(4)).',
    );
    expect(prefs.every((p) => p.values.length === 0 && p.clauseIds.length === 2)).toBe(true);
  });
});
