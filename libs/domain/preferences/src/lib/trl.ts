import { PreferenceRowV1 } from '@studio/contracts';
import type { PreferenceRecord } from './records';

/**
 * TRL preference JSON lines (contract: runtime/preference-row.v1), what `studio-runtime train
 * dpo|reward` reads: {prompt: [system?, user], chosen: [assistant], rejected: [assistant], weight,
 * values, preference_id, clause_ids}, one line per preference in the order given.
 */
export function toTrlJsonl(prefs: PreferenceRecord[], weights: Map<string, number>): string {
  return prefs
    .map((p) => {
      const weight = weights.get(p.id);
      if (weight === undefined) throw new Error(`no weight for preference "${p.id}": aggregate the preferences first`);
      const row: PreferenceRowV1 = {
        prompt: [
          ...(p.systemPrompt ? [{ role: 'system' as const, content: p.systemPrompt }] : []),
          { role: 'user' as const, content: p.prompt },
        ],
        chosen: [{ role: 'assistant', content: p.chosen }],
        rejected: [{ role: 'assistant', content: p.rejected }],
        weight,
        values: [...p.values],
        preference_id: p.id,
        clause_ids: [...p.clauseIds],
      };
      const checked = PreferenceRowV1.safeParse(row);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new Error(`preference "${p.id}" makes no valid preference row: ${issue?.path.join('.')}: ${issue?.message}`);
      }
      return `${JSON.stringify(checked.data)}\n`;
    })
    .join('');
}
