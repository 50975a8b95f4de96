import { Id } from '@studio/contracts';
import { aggregatePreferences, preferenceId, SOURCE_WEIGHTS, valueImportance, verdictBalance } from './aggregate';
import { input, pref, valuesFile } from './fixtures.spec-helper';
import type { PreferenceRecord } from './records';

const X = 'No. Gifts above $100 must be declined (§1.1).';
const Y = 'Yes, gifts are welcome.';
const Z = 'It depends on the gift.';

const weightOf = (agg: ReturnType<typeof aggregatePreferences>, p: PreferenceRecord) => {
  const pair = agg.pairs.find((x) => x.preferenceId === p.id);
  if (!pair) throw new Error(`no pair for ${p.id}`);
  return pair;
};

describe('preferenceId', () => {
  it('is a valid Id, the same for the same content', () => {
    const id = preferenceId(input());
    expect(Id.safeParse(id).success).toBe(true);
    expect(id).toMatch(/^pref-[0-9a-f]{32}$/);
    expect(preferenceId(input())).toBe(id);
  });

  it.each([
    ['contextId', 'other-context'],
    ['prompt', 'May I accept a $20 gift?'],
    ['chosen', 'No (§1.1).'],
    ['rejected', 'Sure.'],
    ['source', 'red-team'],
    ['annotator', 'key:bob'],
  ] as const)('changes with %s', (field, value) => {
    expect(preferenceId(input({ [field]: value }))).not.toBe(preferenceId(input()));
  });

  it('does not change with what describes the judgement (explanation, values, origin)', () => {
    const other = input({
      explanation: 'because',
      values: ['honesty'],
      origin: { datasetVersionId: 'dv', exampleId: 'e', auditId: null, runId: null },
    });
    expect(preferenceId(other)).toBe(preferenceId(input()));
  });

  it('does not confuse fields whose concatenation is the same', () => {
    expect(preferenceId(input({ chosen: 'ab', rejected: 'c' }))).not.toBe(preferenceId(input({ chosen: 'a', rejected: 'bc' })));
  });
});

describe('valueImportance', () => {
  it('follows the priority rank when the values file sets none: (n − rank + 1) / n', () => {
    expect(Object.fromEntries(valueImportance(valuesFile()))).toEqual({
      legal_compliance: 1,
      safety: 0.75,
      honesty: 0.5,
      helpfulness: 0.25,
    });
  });

  it("takes a value's own importance where it is set, 0 included", () => {
    const m = valueImportance(valuesFile({ helpfulness: 0, safety: 0.9 }));
    expect(m.get('helpfulness')).toBe(0);
    expect(m.get('safety')).toBe(0.9);
    expect(m.get('honesty')).toBe(0.5);
  });

  it('is empty without a values file', () => {
    expect(valueImportance(null).size).toBe(0);
  });
});

describe('aggregatePreferences: uncontested pairs', () => {
  it('weighs priority × agreement × source, one pair per preference in order', () => {
    const a = pref({ values: ['honesty'] });
    const b = pref({ values: ['legal_compliance', 'helpfulness'], source: 'synthetic', annotator: 'framer', prompt: 'Another question?' });
    const c = pref({ values: [], source: 'model', annotator: 'auditor', prompt: 'A third question?' });
    const agg = aggregatePreferences([a, b, c], valuesFile());
    expect(agg.pairs.map((p) => p.preferenceId)).toEqual([a.id, b.id, c.id]);
    expect(weightOf(agg, a)).toEqual({
      preferenceId: a.id,
      weight: 0.5,
      components: { priority: 0.5, agreement: 1, source: 1, verdict: 1 },
    });
    // The highest importance among its values: legal_compliance (1), not helpfulness.
    expect(weightOf(agg, b)).toEqual({
      preferenceId: b.id,
      weight: 0.5,
      components: { priority: 1, agreement: 1, source: 0.5, verdict: 1 },
    });
    // No values: the mean importance of the context's values, (1 + 0.75 + 0.5 + 0.25) / 4.
    expect(weightOf(agg, c).components.priority).toBeCloseTo(0.625);
    expect(weightOf(agg, c).weight).toBeCloseTo(0.3125);
    expect(agg.resolutions).toEqual([]);
  });

  it('gives priority 1 to every pair without a values file, and documents the source weights', () => {
    const agg = aggregatePreferences([pref({ values: ['honesty'], source: 'red-team', annotator: 'key:eve' })], null);
    expect(agg.pairs[0]?.weight).toBe(1);
    expect(SOURCE_WEIGHTS).toEqual({ human: 1, 'red-team': 1, synthetic: 0.5, model: 0.5 });
  });

  it('gives weight 0 to a pair whose only value has importance 0: it contributes nothing', () => {
    const zero = pref({ values: ['helpfulness'] });
    const mixed = pref({ values: ['helpfulness', 'honesty'], prompt: 'Other?' });
    const agg = aggregatePreferences([zero, mixed], valuesFile({ helpfulness: 0 }));
    expect(weightOf(agg, zero)).toEqual({
      preferenceId: zero.id,
      weight: 0,
      components: { priority: 0, agreement: 1, source: 1, verdict: 1 },
    });
    expect(weightOf(agg, mixed).weight).toBe(0.5);
  });

  it('treats value names the values file does not know as no values', () => {
    const p = pref({ values: ['kindness'] });
    expect(weightOf(aggregatePreferences([p], valuesFile()), p).components.priority).toBeCloseTo(0.625);
  });

  it('sees no conflict among pairs that chose the same answer (a synthetic example’s three pairs)', () => {
    const prefs = [Y, Z, "I'm sorry, but I can't help with that."].map((rejected) =>
      pref({ chosen: X, rejected, values: ['honesty'], source: 'synthetic', annotator: 'framer' }),
    );
    const agg = aggregatePreferences(prefs, valuesFile());
    expect(agg.resolutions).toEqual([]);
    expect(agg.pairs.map((p) => p.weight)).toEqual([0.25, 0.25, 0.25]);
  });

  it('balances the verdicts: chosen "yes" and chosen "no" answers carry the same total weight, the rest is left as it is', () => {
    const no = ['A?', 'B?', 'C?'].map((prompt) => pref({ prompt, chosen: X, rejected: Y, values: ['honesty'] }));
    const yes = pref({ prompt: 'D?', chosen: Y, rejected: X, values: ['honesty'] });
    const neither = pref({ prompt: 'E?', chosen: 'It depends on the value (§1.1).', rejected: Y, values: ['honesty'] });
    const agg = aggregatePreferences([...no, yes, neither], valuesFile());
    // Before balancing each weighs 0.5: "no" 1.5 in all, "yes" 0.5; both are brought to 1.
    for (const p of no) expect(weightOf(agg, p).components.verdict).toBeCloseTo(2 / 3);
    expect(weightOf(agg, yes)).toEqual({
      preferenceId: yes.id,
      weight: 1,
      components: { priority: 0.5, agreement: 1, source: 1, verdict: 2 },
    });
    expect(no.reduce((s, p) => s + weightOf(agg, p).weight, 0)).toBeCloseTo(weightOf(agg, yes).weight);
    expect(weightOf(agg, neither).components.verdict).toBe(1);
    expect(weightOf(agg, neither).weight).toBe(0.5);
    // One verdict only (or a side of weight 0): nothing to balance.
    expect(
      verdictBalance([
        { chosen: X, weight: 1 },
        { chosen: 'No, never.', weight: 2 },
      ]),
    ).toEqual([1, 1]);
    expect(
      verdictBalance([
        { chosen: X, weight: 1 },
        { chosen: Y, weight: 0 },
      ]),
    ).toEqual([1, 1]);
  });

  it('refuses the same preference twice', () => {
    const p = pref();
    expect(() => aggregatePreferences([p, p], null)).toThrow(`preference "${p.id}" is given twice`);
  });
});

describe('aggregatePreferences: conflicting annotators', () => {
  it('lets the majority win: agreement is its share of the annotators, the minority weighs 0', () => {
    const majority = ['key:alice', 'key:bob', 'oidc:carol'].map((annotator) =>
      pref({ annotator, chosen: X, rejected: Y, values: ['honesty'] }),
    );
    const minority = pref({ annotator: 'key:dave', chosen: Y, rejected: X, values: ['legal_compliance'] });
    const agg = aggregatePreferences([majority[0] as PreferenceRecord, minority, ...majority.slice(1)], valuesFile());
    for (const p of majority)
      expect(weightOf(agg, p)).toEqual({
        preferenceId: p.id,
        weight: 0.375,
        components: { priority: 0.5, agreement: 0.75, source: 1, verdict: 1 },
      });
    // A higher-priority value does not overturn a majority.
    expect(weightOf(agg, minority).weight).toBe(0);
    expect(weightOf(agg, minority).components.agreement).toBe(0);
    expect(agg.resolutions).toEqual([
      {
        prompt: majority[0]?.prompt,
        kind: 'annotators-disagree',
        preferenceIds: [majority[0]?.id, majority[1]?.id, majority[2]?.id, minority.id],
        winnerIds: majority.map((p) => p.id),
        values: ['legal_compliance', 'honesty'],
        winningValue: 'honesty',
        reason: `3 of 4 annotators preferred "${X}": the majority wins`,
      },
    ]);
  });

  it('compares prompts and answers by their words, not case or spacing', () => {
    const a = pref({ annotator: 'key:alice', chosen: X, rejected: Y });
    const b = pref({
      annotator: 'key:bob',
      chosen: ` ${Y.toUpperCase()}  `,
      rejected: X.replace(/ /g, '  '),
      prompt: `  ${a.prompt.toLowerCase()}`,
    });
    const c = pref({ annotator: 'key:carol', chosen: X, rejected: Y });
    const agg = aggregatePreferences([a, b, c], null);
    expect(agg.resolutions).toHaveLength(1);
    expect(weightOf(agg, b).weight).toBe(0);
    expect(weightOf(agg, a).components.agreement).toBeCloseTo(2 / 3);
  });

  it('breaks a tie by value priority', () => {
    const helpful = pref({ annotator: 'key:alice', chosen: Y, rejected: X, values: ['helpfulness'] });
    const safe = pref({ annotator: 'key:bob', chosen: X, rejected: Y, values: ['safety'] });
    const agg = aggregatePreferences([helpful, safe], valuesFile());
    expect(weightOf(agg, safe)).toEqual({
      preferenceId: safe.id,
      weight: 0.375,
      components: { priority: 0.75, agreement: 0.5, source: 1, verdict: 1 },
    });
    expect(weightOf(agg, helpful).weight).toBe(0);
    expect(agg.resolutions).toEqual([
      {
        prompt: helpful.prompt,
        kind: 'annotators-disagree',
        preferenceIds: [helpful.id, safe.id],
        winnerIds: [safe.id],
        values: ['safety', 'helpfulness'],
        winningValue: 'safety',
        reason: `annotators split 1–1; safety (priority 2) outranks helpfulness (priority 4), so "${X}" wins`,
      },
    ]);
  });

  it('uses neither side of a tie that no value priority separates, and says so', () => {
    const a = pref({ annotator: 'key:alice', chosen: Y, rejected: X, values: ['honesty'] });
    const b = pref({ annotator: 'key:bob', chosen: X, rejected: Y, values: ['honesty'] });
    const agg = aggregatePreferences([a, b], valuesFile());
    expect(agg.pairs.map((p) => p.weight)).toEqual([0, 0]);
    expect(agg.resolutions[0]).toMatchObject({
      winnerIds: [],
      winningValue: null,
      reason: 'annotators split 1–1 and both sides name honesty (priority 3): neither side is used',
    });
    const untagged = aggregatePreferences([pref({ annotator: 'key:a', chosen: Y, rejected: X }), pref({ annotator: 'key:b' })], null);
    expect(untagged.resolutions[0]?.reason).toBe('annotators split 1–1 and no value priority separates them: neither side is used');
  });

  it('counts annotators, not preferences: one person judging twice is one voice', () => {
    const alice1 = pref({ annotator: 'key:alice', chosen: X, rejected: Y, source: 'human' });
    const alice2 = pref({ annotator: 'key:alice', chosen: X, rejected: Y, source: 'red-team' });
    const bob = pref({ annotator: 'key:bob', chosen: Y, rejected: X, values: ['legal_compliance'] });
    const agg = aggregatePreferences([alice1, alice2, bob], valuesFile());
    // 1–1 between people: the tie goes to the side with a value (legal_compliance).
    expect(agg.resolutions[0]?.winnerIds).toEqual([bob.id]);
    expect(agg.resolutions[0]?.reason).toMatch(
      /^annotators split 1–1; legal_compliance \(priority 1\) outranks the other side, which names no value/,
    );
  });

  it('keeps prompts of different contexts apart', () => {
    const a = pref({ annotator: 'key:alice', chosen: X, rejected: Y });
    const b = pref({ annotator: 'key:bob', chosen: Y, rejected: X, contextId: 'other' });
    expect(aggregatePreferences([a, b], null).resolutions).toEqual([]);
  });
});

describe('aggregatePreferences: conflicting values', () => {
  it('lets the higher-priority value win when different answers were chosen for different values', () => {
    const helpful = pref({ annotator: 'key:alice', chosen: Z, rejected: X, values: ['helpfulness'] });
    const safe = pref({ annotator: 'key:bob', chosen: X, rejected: Y, values: ['safety'] });
    const sameSide = pref({ annotator: 'key:carol', chosen: X, rejected: 'Ask your manager.', values: ['honesty'] });
    const agg = aggregatePreferences([helpful, safe, sameSide], valuesFile());
    expect(weightOf(agg, helpful).weight).toBe(0);
    expect(weightOf(agg, safe).weight).toBe(0.75);
    // Chose the same answer as the winning value: on the winning side, weighed by its own value.
    expect(weightOf(agg, sameSide).weight).toBe(0.5);
    expect(agg.resolutions).toEqual([
      {
        prompt: helpful.prompt,
        kind: 'values-conflict',
        preferenceIds: [helpful.id, safe.id, sameSide.id],
        winnerIds: [safe.id, sameSide.id],
        values: ['safety', 'honesty', 'helpfulness'],
        winningValue: 'safety',
        reason: 'safety (priority 2) outranks helpfulness (priority 4): the answer chosen for safety wins',
      },
    ]);
  });

  it('leaves pairs without a known value out of a values conflict', () => {
    const untagged = pref({ annotator: 'key:alice', chosen: Z, rejected: Y });
    const safe = pref({ annotator: 'key:bob', chosen: X, rejected: Y, values: ['safety'] });
    const agg = aggregatePreferences([untagged, safe], valuesFile());
    expect(agg.resolutions).toEqual([]);
    expect(agg.pairs.every((p) => p.weight > 0)).toBe(true);
  });

  it('settles the annotators first, then the values among what stands', () => {
    // Two annotators to one prefer X to Y; a fourth chose Z, for a lower value.
    const a = pref({ annotator: 'key:a', chosen: X, rejected: Y, values: ['honesty'] });
    const b = pref({ annotator: 'key:b', chosen: X, rejected: Y, values: ['honesty'] });
    const c = pref({ annotator: 'key:c', chosen: Y, rejected: X, values: ['helpfulness'] });
    const d = pref({ annotator: 'key:d', chosen: Z, rejected: Y, values: ['helpfulness'] });
    const agg = aggregatePreferences([a, b, c, d], valuesFile());
    expect(agg.resolutions.map((r) => r.kind)).toEqual(['annotators-disagree', 'values-conflict']);
    expect(agg.resolutions[1]?.preferenceIds).toEqual([a.id, b.id, d.id]);
    expect(agg.pairs.map((p) => p.weight)).toEqual([0.5 * (2 / 3), 0.5 * (2 / 3), 0, 0]);
  });

  it('settles nothing by value without a values file (no priorities are declared)', () => {
    const helpful = pref({ annotator: 'key:alice', chosen: Z, rejected: X, values: ['helpfulness'] });
    const safe = pref({ annotator: 'key:bob', chosen: X, rejected: Y, values: ['safety'] });
    expect(aggregatePreferences([helpful, safe], null).resolutions).toEqual([]);
  });
});
