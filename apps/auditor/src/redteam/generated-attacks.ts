import type { NormativeStatement } from '@studio/framing';
import { attackGoals, generateAttacks, type Attack, type RuleSource } from '@studio/redteam';
import type { AnnotatedClause, FramerClient } from '../audits/framer-client';
import type { AttackSource } from './red-team';

/** The rules of a context as attack generation reads them: its current clauses, their statements, its values. */
export function ruleSourceOf(clauses: readonly AnnotatedClause[], values: RuleSource['values']): RuleSource {
  return {
    clauses: clauses.map((c) => ({ id: c.id, numbering: c.numbering, text: c.text, title: c.title })),
    statements: clauses.flatMap((c) =>
      c.statements.map((s): NormativeStatement => ({ ...s, clauseId: c.id, clauseNumbering: c.numbering })),
    ),
    values,
  };
}

/** Contexts whose attacks are kept at once. */
const MAX_CACHED_CONTEXTS = 64;

/**
 * The attacks of a context, generated from its current rules (`attackGoals` + `generateAttacks`
 * of @studio/redteam, default strategies, deterministic): the same clauses give the same attacks
 * with the same ids, so a trial can name one by id. Kept per tenant and context while the clauses'
 * content is unchanged.
 */
export class GeneratedAttacks implements AttackSource {
  private readonly cache = new Map<string, { key: string; attacks: Attack[] }>();

  constructor(
    private readonly framer: Pick<FramerClient, 'annotatedClauses' | 'values'>,
    private readonly maxAttacks = 500,
  ) {}

  async attacksOf(tenant: string, contextId: string): Promise<Attack[]> {
    const [clauses, values] = await Promise.all([this.framer.annotatedClauses(tenant, contextId), this.framer.values(tenant, contextId)]);
    const key = JSON.stringify([clauses.map((c) => c.id), values]);
    const cacheKey = `${tenant}\u0000${contextId}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.key === key) return cached.attacks;
    const source = ruleSourceOf(clauses, values ? [...values.values] : []);
    const attacks = generateAttacks(attackGoals(source), { maxAttacks: this.maxAttacks });
    this.cache.delete(cacheKey);
    this.cache.set(cacheKey, { key, attacks });
    // The least recently generated go first past the bound.
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= MAX_CACHED_CONTEXTS) break;
      this.cache.delete(oldest);
    }
    return attacks;
  }
}
