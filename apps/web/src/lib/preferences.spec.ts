import { exportedIds, pairRows, sourceCounts, type PreferenceDatasetView, type PreferenceView } from './preferences';

const preference = (id: string, chosen: string): PreferenceView => ({
  id,
  contextId: 'ctx',
  prompt: 'Q?',
  systemPrompt: null,
  chosen,
  rejected: 'bad',
  source: 'human',
  rejectedKind: null,
  values: [],
  annotator: 'key:a',
  explanation: null,
  edited: false,
  clauseIds: [],
  createdAt: '2026-12-01T10:00:00Z',
});

const dataset: PreferenceDatasetView = {
  id: 'pds-2',
  contextId: 'ctx',
  sha256: 'a'.repeat(64),
  previousId: 'pds-1',
  preferenceIds: ['p1', 'p2', 'p3'],
  newPreferenceIds: ['p3'],
  pairs: [
    { preferenceId: 'p1', weight: 0.5, components: { priority: 1, agreement: 1, source: 0.5 } },
    { preferenceId: 'p2', weight: 0, components: { priority: 1, agreement: 0, source: 1 } },
    { preferenceId: 'p3', weight: 1, components: { priority: 1, agreement: 1, source: 1 } },
  ],
  train: { examples: 2 },
  heldOut: { examples: 1 },
  bySource: { synthetic: 1, human: 2, model: 0 },
  resolutions: 1,
  createdAt: '2026-12-01T10:00:00Z',
};

describe('pairRows', () => {
  it('joins each pair of a version with its preference, marking those the version added', () => {
    const rows = pairRows(dataset, [preference('p3', 'Edited answer.'), preference('p1', 'Good.')]);
    expect(rows.map((r) => [r.preferenceId, r.weight, r.isNew, r.preference?.chosen ?? null])).toEqual([
      ['p1', 0.5, false, 'Good.'],
      ['p2', 0, false, null],
      ['p3', 1, true, 'Edited answer.'],
    ]);
  });
});

describe('sourceCounts', () => {
  it('lists the sources with preferences, largest first', () => {
    expect(sourceCounts(dataset.bySource)).toBe('human 2 · synthetic 1');
    expect(sourceCounts({})).toBe('—');
  });
});

describe('exportedIds', () => {
  it('reads the preference ids of TRL JSON lines, skipping what is not a row', () => {
    const jsonl = '{"prompt":[],"chosen":[],"rejected":[],"preference_id":"p1"}\n\nnot json\n{"preference_id":"p3"}\n';
    expect(exportedIds(jsonl)).toEqual(['p1', 'p3']);
  });
});
