import { PreferenceRowV1 } from '@studio/contracts';
import { pref } from './fixtures.spec-helper';
import { toTrlJsonl } from './trl';

describe('toTrlJsonl', () => {
  const a = pref({ values: ['honesty'], clauseIds: ['acme:1.1:0123456789ab', 'acme:1.2:0123456789ab'] });
  const b = pref({ systemPrompt: null, prompt: 'Second question?', chosen: 'Second chosen.', rejected: 'Second rejected.' });

  it('writes one TRL conversational preference row per preference, in order, with its weight', () => {
    const lines = toTrlJsonl(
      [a, b],
      new Map([
        [a.id, 0.75],
        [b.id, 0],
      ]),
    ).split('\n');
    expect(lines.pop()).toBe('');
    const rows = lines.map((l) => PreferenceRowV1.parse(JSON.parse(l)));
    expect(rows[0]).toEqual({
      prompt: [
        { role: 'system', content: a.systemPrompt },
        { role: 'user', content: a.prompt },
      ],
      chosen: [{ role: 'assistant', content: a.chosen }],
      rejected: [{ role: 'assistant', content: a.rejected }],
      weight: 0.75,
      values: ['honesty'],
      preference_id: a.id,
      clause_ids: a.clauseIds,
    });
    // No system prompt: the prompt is the user's question alone; weight 0 is written as given.
    expect(rows[1]?.prompt).toEqual([{ role: 'user', content: 'Second question?' }]);
    expect(rows[1]?.weight).toBe(0);
  });

  it('is empty for no preferences', () => {
    expect(toTrlJsonl([], new Map())).toBe('');
  });

  it('refuses a preference without a weight, and a negative weight', () => {
    expect(() => toTrlJsonl([a], new Map())).toThrow(`no weight for preference "${a.id}": aggregate the preferences first`);
    expect(() => toTrlJsonl([a], new Map([[a.id, -1]]))).toThrow(`preference "${a.id}" makes no valid preference row: weight:`);
  });
});
