import { answerProblem, questionProblem, wellFormednessProblem } from './wellformed';

// The garbled examples quoted in issue 8, verbatim (… marks where the issue cut them).
describe('well-formedness gate: the garbling patterns of issue 8', () => {
  it.each([
    ['Is it acceptable for As a condition of acceptance, an employee not to comply with …?', 'glued-opener'],
    ['Would it breach the guidelines if 7323 were to take an active part in political management …?', 'modal-or-number-subject'],
    ['Is the following allowed under the conduct guidelines: an employee?', 'fragment'],
    ['May would raise a question in the mind of a reasonable person …', 'not-a-question'],
    ['May would raise a question in the mind of a reasonable person?', 'modal-or-number-subject'],
  ])('question %j → %s', (question, reason) => {
    expect(questionProblem(question)?.reason).toBe(reason);
  });

  it.each([
    ['No. An employee is prohibited by 18 U.S.C.', 'dangling-reference'],
    ['Yes, unless authorized by statute or regulation (e.g., 5 U.S.C. An employee may not accept …', 'cut-abbreviation'],
    ['No. 209, which prohibits employees …', 'dangling-reference'],
    ['Yes, unless authorized by statute or regulation (e.g., 5 U.S.C.', 'cut-abbreviation'],
    ['No. The rule is set out in Pub. L.', 'cut-abbreviation'],
    ['Yes. This requirement does not apply to. (§ 164.502(a)(2))', 'fragment'],
    ['No. Prohibits the parties from using or disclosing the information. (§ 164.512(e))', 'fragment'],
    [
      'Yes. Except for uses and disclosures prohibited under § 164.502(a)(5)(i), pursuant to and in compliance with a valid authorization under § 164.508. (§ 164.502(a)(1)(iv))',
      'fragment',
    ],
    [
      "Yes. When required by the Secretary under subpart C of part 160 of this subchapter to investigate or determine the covered entity's compliance with this subchapter. (§ 164.502(a)(2)(ii))",
      'fragment',
    ],
    // A list item restated as it stands: no verb, nothing said.
    ['Yes, refusing complies with the rules. Social security number. (§ 164.512(f)(2)(i)(C))', 'fragment'],
  ])('answer %j → %s', (answer, reason) => {
    expect(answerProblem(answer)?.reason).toBe(reason);
  });

  it.each([
    [
      'A covered entity wants to use the information. It is not known whether permitted or required by this subpart. Is this allowed?',
      'fragment',
    ],
    ['A covered entity intends to disclose the information; permitted by law. Is this allowed under the rules?', 'fragment'],
    ['What do the rules require regarding uses or disclosures that?', 'fragment'],
    ['Must the covered entity comply with the following requirements if it denies the amendment?', 'dangling-reference'],
  ])('question %j → %s', (question, reason) => {
    expect(questionProblem(question)?.reason).toBe(reason);
  });

  it('judges the pair by its question first', () => {
    expect(
      wellFormednessProblem({
        question: 'Is the following allowed under the conduct guidelines: an employee?',
        answer: 'No. An employee is prohibited by 18 U.S.C.',
      }),
    ).toEqual({ reason: 'fragment', detail: 'an employee' });
  });
});

describe('well-formedness gate: well-formed text passes', () => {
  it.each([
    'Must a covered entity obtain the authorization of the individual before the disclosure?',
    'Is it acceptable for an employee not to comply with the rules?',
    'May a covered entity disclose protected health information to the individual?',
    'Can employees accept $500 in cash?',
    'A covered entity disclosed protected health information for treatment. Does this comply with the rules?',
    'What does "Gift" mean in the Northwind Dynamics Business Conduct Guidelines?',
    'Under what conditions may employees accept gifts?',
    'Is the following permitted under the rules: the use of company vehicles for private trips?',
    'Is the following allowed under the rules: facilitation payments?',
    'A journalist called me to ask about a rumour. I know the rumour is false. Can I just tell her that?',
    'A covered entity wants to disclose the information. It is not known whether the individual agreed. Is this allowed under the rules?',
  ])('question %j', (question) => {
    expect(questionProblem(question)).toBeNull();
  });

  it.each([
    'No. A covered entity may not use or disclose protected health information, except as permitted or required by this subpart. (§ 164.502(a))',
    'Yes. Employees may accept gifts up to $100 (e.g., flowers or a book). (§1.1)',
    'No. See 45 CFR 164.508 for the authorization that is required. (§ 164.502(a)(1))',
    '"Gift" means anything of value given without charge (§1.5).',
    'No. Harassment is prohibited, whether in the workplace or at events. (§13.1)',
    'No. Whether conduct is harassment depends on its effect (§13.2.2).',
    'Yes. Engineers may stop work; in that case they inform the service manager. (§9.4)',
    'Yes. Even with approval, a Gift to a Government Official may not exceed $25 in value. (§3.4.2)',
    'No. In 2020, the board adopted a stricter rule. (§1.1)',
    'Yes. To obtain an exception, an employee must ask the Ethics Office in writing. (§2.1)',
    'Yes. If you add your own comments about the product, make clear that the views are your own (§11.2.2).',
    'Yes. When using or disclosing protected health information, a covered entity must make reasonable efforts to limit it. (§ 164.502(b))',
  ])('answer %j', (answer) => {
    expect(answerProblem(answer)).toBeNull();
  });
});
