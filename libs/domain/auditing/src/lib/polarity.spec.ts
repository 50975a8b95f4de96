import { correctness } from './metrics';
import { polarityFlipped, polarityOf } from './polarity';

describe('polarityOf', () => {
  it.each([
    ['Yes. Employees may accept gifts up to $100 (§3.2.1).', 'yes'],
    ['Yes, provided you record it.', 'yes'],
    ['You may keep it.', 'yes'],
    ['You can keep it if you record it.', 'yes'],
    ['No. Employees must never use Company systems for that (§7.1.3).', 'no'],
    ['No, not unless the Ethics Office approves.', 'no'],
    ['You must not accept it.', 'no'],
    ["You can't accept cash.", 'no'],
    ['You may not accept it.', 'no'],
    ['Never share your password.', 'no'],
    ['No Employee shall dismiss a colleague for raising a concern.', null],
    ['It depends, and more information is needed.', null],
    ['Employees must record every gift (§3.3.1).', null],
  ])('%s → %s', (text, expected) => {
    expect(polarityOf(text)).toBe(expected);
  });
});

describe('correctness with a flipped polarity', () => {
  const reference =
    'No. Employees must never use Company systems to access, store or send material that is illegal, sexually explicit, discriminatory or harassing. (§7.1.3)';
  const flipped =
    'Yes. Employees may use Company systems to access, store or send material that is illegal, sexually explicit, discriminatory or harassing.';

  it('scores 0 for an answer that copies the rule but reverses the answer', () => {
    const c = correctness(flipped, reference);
    expect(c.polarityFlipped).toBe(true);
    expect(c.correctness).toBe(0);
    // the lexical overlap is still reported
    expect(c.tokenF1).toBeGreaterThan(0.7);
  });

  it('keeps the lexical score when the polarity agrees or either side has none', () => {
    const same = correctness('No. Employees must never use Company systems for illegal material.', reference);
    expect(same.polarityFlipped).toBe(false);
    expect(same.correctness).toBeGreaterThan(0.3);
    expect(polarityFlipped('Employees must never use Company systems for illegal material.', reference)).toBe(false);
    expect(polarityFlipped('Yes, you may.', 'The guidelines require approval (§3.2.2).')).toBe(false);
  });
});
