import { checkModality, isMixed, sameAction, stancesOf } from './modality';

describe('stancesOf', () => {
  it.each([
    ['Employees must not accept gifts.', ['forbid']],
    ['You may not accept gifts.', ['forbid']],
    ['Gifts are not allowed.', ['forbid']],
    ['Accepting cash is prohibited.', ['forbid']],
    ["You can't accept cash.", ['forbid']],
    ['Never share your password.', ['forbid']],
    ['Do not share your password.', ['forbid']],
    ["Don't share your password.", ['forbid']],
    ['You should never share it.', ['forbid']],
    ['You may accept gifts.', ['permit']],
    ['It is okay to accept a coffee.', ['permit']],
    ['Employees are free to join.', ['permit']],
    ['Employees are not free to join.', ['forbid']],
    ['Employees must report gifts.', ['require']],
    ['You have to report it.', ['require']],
    ['Approval is required.', ['require']],
    ['Approval is not required.', ['exempt']],
    ["You don't have to report it.", ['exempt']],
    ['You do not need to report it.', ['exempt']],
    ['There is no need to report it.', ['exempt']],
    ['Reporting is optional.', ['exempt']],
    ['Gifts are a source of conflict.', []],
  ])('%s → %j', (text, expected) => {
    expect([...stancesOf(text)].sort()).toEqual([...expected].sort());
  });

  it('scopes negation to the clause part before a comma', () => {
    expect([...stancesOf('No, you can keep it.')]).toEqual(['permit']);
    expect([...stancesOf('No you can not keep it.')]).toEqual(['forbid']);
  });

  it('collects stances over sentences', () => {
    expect([...stancesOf('You may accept meals. You must not accept cash.')].sort()).toEqual(['forbid', 'permit']);
  });
});

describe('isMixed', () => {
  it('detects a stance together with its opposite', () => {
    expect(isMixed(new Set(['permit', 'forbid']))).toBe(true);
    expect(isMixed(new Set(['require', 'exempt']))).toBe(true);
    expect(isMixed(new Set(['require', 'permit']))).toBe(false);
    expect(isMixed(new Set(['require', 'forbid']))).toBe(false);
  });
});

describe('checkModality', () => {
  const prohibition = 'Employees must not accept gifts from suppliers.';
  const obligation = 'Employees must report every gift to their manager.';
  const permission = 'Employees may accept gifts of nominal value.';

  it('flags an answer that permits what the clause prohibits', () => {
    const check = checkModality('Yes, you may accept the gift.', prohibition);
    expect(check).toEqual({
      contradiction: true,
      clauseStances: ['forbid'],
      answerStances: ['permit'],
      contradicted: ['forbid'],
    });
  });

  it('does not flag an answer that also states the prohibition', () => {
    expect(checkModality('No, you may not accept it, but you can thank them and decline.', prohibition).contradiction).toBe(false);
    expect(checkModality('You must not accept gifts from suppliers.', prohibition).contradiction).toBe(false);
  });

  it('flags an answer that exempts from an obligation', () => {
    expect(checkModality("You don't have to report it.", obligation).contradicted).toEqual(['require']);
    expect(checkModality('Reporting is optional, you may skip it.', obligation).contradicted).toEqual(['require']);
    expect(checkModality('You must report it to your manager.', obligation).contradiction).toBe(false);
  });

  it('flags an answer that forbids what the clause permits, not one that merely exempts', () => {
    expect(checkModality('You are not allowed to accept any gift.', permission).contradiction).toBe(true);
    expect(checkModality('You can accept it; reporting is optional.', permission).contradiction).toBe(false);
  });

  it('does not check a mixed clause or an answer without modal cues', () => {
    const mixed = 'Employees may accept meals but must not accept cash.';
    expect(checkModality('You may accept cash.', mixed).contradiction).toBe(false);
    expect(checkModality('Gifts create conflicts of interest.', prohibition).contradiction).toBe(false);
  });

  it('treats an obligation as restating a prohibition (actions are not compared)', () => {
    expect(checkModality('Gifts above $100 must be declined.', prohibition).contradiction).toBe(false);
    expect(checkModality('You may thank them, but you must decline the gift.', prohibition).contradiction).toBe(false);
    expect(checkModality('You must not delay the report.', obligation).contradiction).toBe(false);
  });
});

describe('first-person cues', () => {
  it('ignores modal cues about the speaker', () => {
    expect([...stancesOf("I can't help with that.")]).toEqual([]);
    expect([...stancesOf('I cannot assist. I am not allowed to discuss it.')]).toEqual([]);
    expect([...stancesOf("I'm not allowed to say, but you must report it.")]).toEqual(['require']);
    expect(checkModality("I can't help with that.", 'Employees must report gifts.').contradiction).toBe(false);
  });
});

describe('checkModality on the same action', () => {
  const records = 'Employees must not destroy or alter records that are subject to a legal hold, an audit or an investigation.';

  it('flags an obligation of the very action the clause prohibits', () => {
    const check = checkModality('The project manager must destroy or alter records before the audit starts.', records);
    expect(check.contradiction).toBe(true);
    expect(check.contradicted).toEqual(['forbid']);
  });

  it('flags a prohibition of the very action the clause requires', () => {
    const check = checkModality('Employees must not report gifts.', 'Employees must report every gift to their manager.');
    expect(check.contradiction).toBe(true);
    expect(check.contradicted).toEqual(['require']);
  });

  it('still lets an obligation of a different action restate a prohibition', () => {
    expect(checkModality('You must decline the gift.', 'Employees must not accept gifts from suppliers.').contradiction).toBe(false);
    expect(checkModality('You must keep those records until the hold is lifted.', records).contradiction).toBe(false);
    expect(checkModality('No. Employees must not destroy or alter such records.', records).contradiction).toBe(false);
  });

  it('compares verbs and objects', () => {
    expect(sameAction(['destroy', 'alter', 'records'], ['destroy', 'records'])).toBe(true);
    expect(sameAction(['decline'], ['accept', 'gifts'])).toBe(false);
    expect(sameAction(['report', 'gifts'], ['report', 'accidents'])).toBe(false);
  });
});
