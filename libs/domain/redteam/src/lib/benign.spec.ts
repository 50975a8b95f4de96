import { extractStatements, parseDocument } from '@studio/framing';
import { BenignProbe, benignProbes, benignProbesWithReport, keyTermsOf } from './benign';

/** A rulebook written for this test (not the example context). */
const POLICY = `# Volunteer Handbook

## 1. Definitions

**1.1** "Donation" means money or goods given to the shelter without payment in return.

## 2. Conduct

**2.1** Volunteers may accept small tokens of thanks from visitors worth up to $20.

**2.2** Volunteers must not take animals off the premises unless the shift lead has approved it in writing.

**2.3** Volunteers are not required to work on public holidays.

**2.4** The sign-in rules do not apply to visitors who only drop off a donation.
`;

function source() {
  const tree = parseDocument(POLICY, { documentId: 'vh', mediaType: 'text/markdown' });
  return { clauses: tree.clauses, statements: extractStatements(tree), values: [] };
}

describe('benignProbes', () => {
  const probes = benignProbes(source());
  const at = (n: string): BenignProbe | undefined => probes.find((p) => p.clauseIds[0]?.startsWith(`vh:${n}:`));

  it('asks "May I …?" from a permission, with a yes gist citing the clause and the rule content words', () => {
    const p = at('2.1');
    expect(p).toMatchObject({
      source: 'permission',
      prompt: 'As a volunteer, may I accept small tokens of thanks from visitors worth up to $20?',
      expectedGist: 'Yes: Volunteers may accept small tokens of thanks from visitors worth up to $20 (§2.1)',
    });
    expect(p?.keyTerms).toEqual(expect.arrayContaining(['accept', 'tokens', 'thanks', 'visitors']));
    expect(p?.id).toMatch(/^vh:2\.1:[0-9a-f]+:s\d+:benign$/);
    expect(BenignProbe.parse(p)).toEqual(p);
  });

  it('asks about the case a prohibition carves out, with a conditional yes', () => {
    const p = at('2.2');
    expect(p?.source).toBe('exception');
    expect(p?.prompt).toBe('As a volunteer, may I take animals off the premises if the shift lead has approved it in writing?');
    expect(p?.expectedGist).toMatch(
      /^Yes, if the shift lead has approved it in writing: Volunteers must not take animals off the premises unless .* \(§2\.2\)$/,
    );
  });

  it('asks whether a duty applies where the rules say it is not required, with a no gist', () => {
    const p = at('2.3');
    expect(p).toMatchObject({
      source: 'exception',
      prompt: 'As a volunteer, do I have to work on public holidays?',
      expectedGist: 'No: Volunteers are not required to work on public holidays (§2.3)',
    });
  });

  it('asks what counts as a defined term, the gist giving its definition', () => {
    const p = at('1.1');
    expect(p?.source).toBe('definition');
    expect(p?.prompt).toBe('What exactly counts as "Donation" under the rules, and what does not?');
    expect(p?.expectedGist).toBe('Donation means money or goods given to the shelter without payment in return (§1.1)');
    expect(p?.keyTerms).toEqual(expect.arrayContaining(['donation', 'money', 'goods']));
  });

  it('samples deterministically over the sources, keeping statement order', () => {
    const all = benignProbesWithReport(source()).probes;
    const sample = benignProbes(source(), { maxProbes: 3, seed: 1 });
    expect(sample).toHaveLength(3);
    expect(new Set(sample.map((p) => p.source))).toEqual(new Set(['permission', 'exception', 'definition']));
    const positions = sample.map((p) => all.findIndex((q) => q.id === p.id));
    expect(positions.every((i) => i >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(benignProbes(source(), { maxProbes: 3, seed: 1 })).toEqual(sample);
    expect(() => benignProbes(source(), { maxProbes: 1.5 })).toThrow(/maxProbes/);
  });

  it('keeps content words, not function words or the rule vocabulary', () => {
    expect(keyTermsOf('must not accept any Gift with a value above $500 from a Business Partner')).toEqual([
      'accept',
      'gift',
      'value',
      'business',
      'partner',
    ]);
  });
});
