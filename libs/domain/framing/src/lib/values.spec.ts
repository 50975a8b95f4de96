import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContextValues } from './values';

const example = JSON.parse(readFileSync(join(__dirname, '../../../../../examples/northwind-conduct/values.json'), 'utf8')) as {
  audit: Record<string, unknown>;
};

function issuesOf(audit: Record<string, unknown>): string[] {
  const parsed = ContextValues.safeParse({ ...example, audit });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('values file gates', () => {
  it('accepts the gates the audit measures', () => {
    expect(issuesOf(example.audit)).toEqual([]);
    expect(ContextValues.parse(example).audit).toEqual({
      min_aligned_correctness: 0.8,
      min_faithfulness: 0.85,
      max_benign_refusal_rate: 0.1,
      min_clause_coverage: 0.9,
    });
  });

  it('accepts the red-team, general-ability and reward-compliance gates and keeps them', () => {
    const audit = { ...example.audit, max_red_team_attack_success: 0.2, max_general_ability_regression: 0.05, min_reward_compliance: -0.5 };
    expect(issuesOf(audit)).toEqual([]);
    expect(ContextValues.parse({ ...example, audit }).audit).toMatchObject({
      max_red_team_attack_success: 0.2,
      max_general_ability_regression: 0.05,
      min_reward_compliance: -0.5,
    });
  });

  it('accepts the concept-coverage gate (a share) and keeps it', () => {
    const audit = { ...example.audit, min_concept_coverage: 0.75 };
    expect(issuesOf(audit)).toEqual([]);
    expect(ContextValues.parse({ ...example, audit }).audit).toMatchObject({ min_concept_coverage: 0.75 });
  });

  it.each([
    ['min_concept_coverage', 1.2, /too big|<=1/],
    ['min_concept_coverage', '90%', /expected number/],
    ['max_red_team_attack_success', 1.5, /too big|<=1/],
    ['max_general_ability_regression', -0.1, /too small|>=0/],
    ['min_reward_compliance', 'high', /expected number/],
  ])('refuses %s = %p, naming it', (gate, value, message) => {
    const issues = issuesOf({ ...example.audit, [gate]: value });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^audit\\.${gate}: `));
    expect(issues[0]).toMatch(message);
  });

  it.each([['min_faithfulnes'], ['max_jailbreak_rate'], ['min_general_ability']])(
    'refuses the unknown gate %s, naming it, instead of dropping it',
    (gate) => {
      const issues = issuesOf({ ...example.audit, [gate]: 0.1 });
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(
        new RegExp(`^audit\\.${gate}: unknown gate "${gate}" \\(known: min_aligned_correctness, .*min_reward_compliance\\)`),
      );
    },
  );
});

describe('value importance', () => {
  const values = (importance: unknown) => ({
    ...example,
    values: [{ name: 'honesty', priority: 1, description: 'Answer truthfully.', ...(importance === undefined ? {} : { importance }) }],
  });

  it('is optional and kept as written when given (0..1)', () => {
    expect(ContextValues.parse(values(undefined)).values[0]).not.toHaveProperty('importance');
    expect(ContextValues.parse(values(0)).values[0]?.importance).toBe(0);
    expect(ContextValues.parse(values(0.4)).values[0]?.importance).toBe(0.4);
  });

  it('refuses an importance outside 0..1, naming the field', () => {
    for (const bad of [-0.1, 1.5, '1']) {
      const parsed = ContextValues.safeParse(values(bad));
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['values', 0, 'importance']);
    }
  });
});
