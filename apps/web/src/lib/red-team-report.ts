import type { AdaptiveView, RateView, RedTeamView } from './model';

/** A rate as the audit view shows it: "25 % (3/12; 95 % CI 9–53 %)", or "—" with nothing measured. */
export function rateText(rate: RateView | null | undefined): string {
  if (!rate || rate.n === 0) return '—';
  const pct = (x: number) => (x * 100).toFixed(0);
  return `${pct(rate.rate)} % (${rate.k}/${rate.n}; 95 % CI ${pct(rate.low)}–${pct(rate.high)} %)`;
}

/** One row of the red-team table: a strategy stack (or "overall") and its attack success per variant. */
export interface StrategyRow {
  strategy: string;
  byVariant: Record<string, RateView | null>;
}

/**
 * Attack success per strategy stack and variant: "overall" first, then the stacks, the one the
 * gated variant falls to most first (then by name). A variant that did not answer a stack (an
 * injection into retrieved text reaches aligned+RAG only) has null there.
 */
export function strategyRows(redTeam: RedTeamView, variants: readonly string[], gateVariant: string): StrategyRow[] {
  const present = variants.filter((v) => redTeam.variants[v]);
  const stacks = [...new Set(present.flatMap((v) => Object.keys(redTeam.variants[v]?.success.byStrategy ?? {})))];
  const gated = (s: string) => redTeam.variants[gateVariant]?.success.byStrategy[s]?.rate ?? -1;
  stacks.sort((a, b) => gated(b) - gated(a) || a.localeCompare(b));
  const row = (strategy: string, pick: (v: string) => RateView | undefined): StrategyRow => ({
    strategy,
    byVariant: Object.fromEntries(present.map((v) => [v, pick(v) ?? null])),
  });
  return [
    row('overall', (v) => redTeam.variants[v]?.success.overall),
    ...stacks.map((s) => row(s, (v) => redTeam.variants[v]?.success.byStrategy[s])),
  ];
}

/** One line about the adaptive attacker: who attacked, how many attempts and rounds, how many succeeded; or why it did not run. */
export function adaptiveSummary(adaptive: AdaptiveView | undefined): string | null {
  if (!adaptive) return null;
  if (!adaptive.ran) return `Adaptive attacks were not run: ${adaptive.reason}.`;
  const succeeded = adaptive.attempts.filter((a) => a.outcome !== 'refused').length;
  const rounds = adaptive.attempts.reduce((n, a) => n + a.rounds.length, 0);
  const where = adaptive.attacker.endpoint ? ` at ${adaptive.attacker.endpoint}` : '';
  return `Adaptive attacks by ${adaptive.attacker.model}${where}: ${adaptive.attempts.length} attempts on ${adaptive.goals} goals, ${rounds} rounds (at most ${adaptive.maxRounds} each), ${succeeded} succeeded; counted under the strategy "adaptive".`;
}
