import { splitSentences } from './text';

describe('splitSentences (legal-aware)', () => {
  it('does not end a sentence at legal abbreviations and citations', () => {
    expect(splitSentences('Yes, unless authorized by statute (e.g., 5 U.S.C. 7342). An employee may not accept it.')).toEqual([
      'Yes, unless authorized by statute (e.g., 5 U.S.C. 7342).',
      'An employee may not accept it.',
    ]);
    expect(splitSentences('It is barred by 18 U.S.C. 209, which prohibits pay. See 45 C.F.R. 164.502(a)(1)(ii). It applies.')).toEqual([
      'It is barred by 18 U.S.C. 209, which prohibits pay.',
      'See 45 C.F.R. 164.502(a)(1)(ii).',
      'It applies.',
    ]);
    expect(splitSentences('Under Pub. L. 104-191 and No. 209, i.e., the Act, it applies. Next.')).toEqual([
      'Under Pub. L. 104-191 and No. 209, i.e., the Act, it applies.',
      'Next.',
    ]);
  });

  it('ends a sentence at a reference, but not inside parentheses or at a date', () => {
    expect(splitSentences('It acts under § 164.524. The covered entity must act.')).toEqual([
      'It acts under § 164.524.',
      'The covered entity must act.',
    ]);
    expect(splitSentences('See Purl v. HHS (N.D. Tex., 2025). Dec. 28, 2000 is the date.')).toEqual([
      'See Purl v. HHS (N.D. Tex., 2025).',
      'Dec. 28, 2000 is the date.',
    ]);
  });

  it('keeps an enumeration inside one sentence', () => {
    expect(splitSentences('The notice must state: (1) the purpose; (2) the recipient. It is then sent.')).toEqual([
      'The notice must state: (1) the purpose; (2) the recipient.',
      'It is then sent.',
    ]);
  });
});
