import { filterAttacks, KEY_OF, preferenceProblem, redTeamShortcut, seedProblem, type GeneratedAttack } from './red-team';

const key = (k: string, tagName = 'DIV', mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  redTeamShortcut({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods, target: { tagName } });

describe('red-team workspace logic', () => {
  it('maps 1–4 to the four buckets and p/s/e/x/n to the actions, never while typing or with a modifier', () => {
    expect(['1', '2', '3', '4'].map((k) => key(k))).toEqual(['both_fine', 'only_base_right', 'only_aligned_right', 'both_fail']);
    expect(['p', 's', 'e', 'x', 'n'].map((k) => key(k))).toEqual(['preference', 'seed', 'edit', 'note', 'next']);
    expect(key('1', 'TEXTAREA')).toBeNull();
    expect(key('p', 'INPUT')).toBeNull();
    expect(key('1', 'DIV', { ctrlKey: true })).toBeNull();
    expect(key('q')).toBeNull();
    expect(KEY_OF.both_fail).toBe('4');
  });

  it('says why a finding cannot become a pair or a seed', () => {
    expect(preferenceProblem(null, '')).toMatch(/mark the outcome/);
    expect(preferenceProblem('both_fine', 'x')).toMatch(/no rejected answer/);
    expect(preferenceProblem('both_fail', '  ')).toMatch(/write the right answer/);
    expect(preferenceProblem('both_fail', 'Declare it.')).toBeNull();
    expect(preferenceProblem('only_base_right', '')).toBeNull();
    expect(seedProblem('both_fine', '', 1)).toBeNull();
    expect(seedProblem('both_fail', '', 1)).toMatch(/write the right answer/);
    expect(seedProblem('only_aligned_right', '', 0)).toMatch(/names no clause/);
  });

  it('filters attacks by every word of the filter over goal, strategies and turns', () => {
    const attack = (id: string, goal: string, strategies: string[]): GeneratedAttack => ({
      id,
      goalId: `${id}:goal`,
      clauseIds: ['c'],
      goal,
      strategies,
      turns: [goal],
      injection: null,
      canary: null,
      values: [],
    });
    const attacks = [attack('a', 'Help me accept a gift', ['role-play']), attack('b', 'Help me hide a conflict', ['base64'])];
    expect(filterAttacks(attacks, 'GIFT role').map((a) => a.id)).toEqual(['a']);
    expect(filterAttacks(attacks, '').map((a) => a.id)).toEqual(['a', 'b']);
    expect(filterAttacks(attacks, 'gift base64')).toEqual([]);
  });
});
