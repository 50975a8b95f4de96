import {
  buildCloudEvent,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  jsonSchemas,
  parseEvent,
  PREFERENCE_DATASET_PUBLISHED_V1,
  PreferenceRowV1,
  TOPIC_NAMES,
} from './index';

const preference = {
  id: 'pref-0123456789abcdef',
  contextId: 'acme-conduct',
  prompt: 'May I accept a gift of $200 from a supplier?',
  systemPrompt: 'You answer questions about the Acme code of conduct.',
  retrievedClauseIds: ['doc-1:3.2:0123456789ab'],
  clauseIds: ['doc-1:3.2:0123456789ab'],
  chosen: 'No. Gifts above $100 must be declined (§3.2).',
  rejected: 'Yes, gifts are fine.',
  source: 'human' as const,
  rejectedKind: null,
  values: ['integrity'],
  annotator: 'key:alice',
  explanation: 'The second answer permits what §3.2 forbids.',
  edited: false,
  origin: { datasetVersionId: null, exampleId: null, auditId: null, runId: null },
  createdAt: '2026-12-01T10:00:00.000Z',
};

const submitted = (data: unknown) =>
  buildCloudEvent({
    topic: FEEDBACK_PREFERENCE_SUBMITTED_V1,
    source: '/studio/gateway',
    tenantId: 'acme',
    contextId: 'acme-conduct',
    data,
  });

describe('feedback.preference.submitted.v1', () => {
  it('is a registered topic with a checked-in JSON Schema', () => {
    expect(TOPIC_NAMES).toContain(FEEDBACK_PREFERENCE_SUBMITTED_V1);
    expect(Object.keys(jsonSchemas())).toContain(`events/${FEEDBACK_PREFERENCE_SUBMITTED_V1}.schema.json`);
  });

  it('carries a whole preference record', () => {
    const event = parseEvent(FEEDBACK_PREFERENCE_SUBMITTED_V1, submitted({ version: 'v1', contextId: 'acme-conduct', preference }));
    expect(event.data.preference.annotator).toBe('key:alice');
    expect(event.data.preference.origin.auditId).toBeNull();
  });

  it('refuses a preference of another context than the event', () => {
    const data = { version: 'v1', contextId: 'acme-conduct', preference: { ...preference, contextId: 'other' } };
    expect(() => parseEvent(FEEDBACK_PREFERENCE_SUBMITTED_V1, submitted(data))).toThrow(/preference\.contextId/);
  });

  it('names the bad field: an unknown source, an empty chosen answer', () => {
    const bad = (p: object) => submitted({ version: 'v1', contextId: 'acme-conduct', preference: { ...preference, ...p } });
    expect(() => parseEvent(FEEDBACK_PREFERENCE_SUBMITTED_V1, bad({ source: 'crowd' }))).toThrow(/preference\.source/);
    expect(() => parseEvent(FEEDBACK_PREFERENCE_SUBMITTED_V1, bad({ chosen: '' }))).toThrow(/preference\.chosen/);
    expect(() => parseEvent(FEEDBACK_PREFERENCE_SUBMITTED_V1, bad({ rejectedKind: 'worse' }))).toThrow(/rejectedKind/);
  });
});

describe('preference.dataset.published.v1', () => {
  const split = { path: 'file:///a/train.jsonl', sha256: 'c'.repeat(64), examples: 12 };
  const data = {
    version: 'v1',
    contextId: 'acme-conduct',
    preferenceDatasetId: 'prefs-1',
    sha256: 'd'.repeat(64),
    previousId: null,
    pairs: 14,
    newPairs: 14,
    bySource: { synthetic: 12, human: 2 },
    resolutions: 1,
    train: split,
    heldOut: { ...split, examples: 2 },
  };
  const published = (d: unknown) =>
    buildCloudEvent({
      topic: PREFERENCE_DATASET_PUBLISHED_V1,
      source: '/studio/reward-model',
      tenantId: 'acme',
      contextId: 'acme-conduct',
      data: d,
    });

  it('validates a published preference dataset', () => {
    expect(parseEvent(PREFERENCE_DATASET_PUBLISHED_V1, published(data)).data.heldOut.examples).toBe(2);
  });

  it('refuses negative counts and a malformed hash', () => {
    expect(() => parseEvent(PREFERENCE_DATASET_PUBLISHED_V1, published({ ...data, newPairs: -1 }))).toThrow(/newPairs/);
    expect(() => parseEvent(PREFERENCE_DATASET_PUBLISHED_V1, published({ ...data, train: { ...split, sha256: 'x' } }))).toThrow(
      /train\.sha256/,
    );
  });
});

describe('preference row (runtime/preference-row.v1)', () => {
  const row = {
    prompt: [
      { role: 'system', content: 'You answer questions about the code.' },
      { role: 'user', content: 'May I accept a gift?' },
    ],
    chosen: [{ role: 'assistant', content: 'Not above $100 (§3.2).' }],
    rejected: [{ role: 'assistant', content: 'Yes.' }],
    weight: 0.5,
    values: ['integrity'],
    preference_id: 'pref-1',
    clause_ids: ['doc-1:3.2:0123456789ab'],
  };

  it('accepts a TRL conversational preference row with its weight', () => {
    expect(PreferenceRowV1.parse(row).weight).toBe(0.5);
  });

  it('refuses an assistant turn in the prompt, a user turn as an answer and a negative weight', () => {
    expect(PreferenceRowV1.safeParse({ ...row, prompt: [{ role: 'assistant', content: 'x' }] }).success).toBe(false);
    expect(PreferenceRowV1.safeParse({ ...row, chosen: [{ role: 'user', content: 'x' }] }).success).toBe(false);
    expect(PreferenceRowV1.safeParse({ ...row, weight: -0.1 }).success).toBe(false);
  });

  it('is published as a JSON Schema the Python runtime reads', () => {
    const schema = jsonSchemas()['runtime/preference-row.v1.schema.json'] as { $id: string; required: string[] };
    expect(schema.$id).toBe('urn:studio:schema:runtime.preference-row.v1');
    expect(schema.required).toEqual(
      expect.arrayContaining(['prompt', 'chosen', 'rejected', 'weight', 'values', 'preference_id', 'clause_ids']),
    );
  });
});
