import { ContextValues } from '@studio/framing';
import { preferenceId } from './aggregate';
import type { PreferenceInput, PreferenceRecord } from './records';

export const CONTEXT = 'acme-conduct';

/** A values file of four values: legal_compliance (1) > safety (2) > honesty (3) > helpfulness (4). */
export function valuesFile(importance: Partial<Record<string, number>> = {}): ContextValues {
  const value = (name: string, priority: number) => ({
    name,
    priority,
    description: `${name} matters`,
    sections: [],
    ...(importance[name] === undefined ? {} : { importance: importance[name] }),
  });
  return ContextValues.parse({
    context: { id: CONTEXT, name: 'Acme conduct', documents: [] },
    values: [value('helpfulness', 4), value('legal_compliance', 1), value('honesty', 3), value('safety', 2)],
    audit: { min_aligned_correctness: 0.5, min_faithfulness: 0.5, max_benign_refusal_rate: 0.2 },
  });
}

export function input(overrides: Partial<PreferenceInput> = {}): PreferenceInput {
  return {
    contextId: CONTEXT,
    prompt: 'May I accept a $200 gift from a supplier?',
    systemPrompt: 'You answer questions about the rules of this context.',
    retrievedClauseIds: [],
    clauseIds: ['acme:1.1:0123456789ab'],
    chosen: 'No. Gifts above $100 must be declined (§1.1).',
    rejected: 'Yes, gifts are welcome.',
    source: 'human',
    rejectedKind: null,
    values: [],
    annotator: 'key:alice',
    explanation: null,
    edited: false,
    origin: { datasetVersionId: null, exampleId: null, auditId: null, runId: null },
    ...overrides,
  };
}

export function pref(overrides: Partial<PreferenceInput> = {}, createdAt = '2026-12-01T10:00:00.000Z'): PreferenceRecord {
  const i = input(overrides);
  return { ...i, id: preferenceId(i), createdAt };
}
