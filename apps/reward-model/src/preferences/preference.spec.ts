import { buildCloudEvent, FEEDBACK_SUBMITTED_V1, parseEvent, type FeedbackSubmittedV1 } from '@studio/contracts';
import { Preference, preferenceFromFeedback } from './preference';

const feedback = (comment?: string) =>
  parseEvent(
    FEEDBACK_SUBMITTED_V1,
    buildCloudEvent<FeedbackSubmittedV1>({
      topic: FEEDBACK_SUBMITTED_V1,
      source: '/studio/gateway',
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        feedbackId: 'fb-1',
        prompt: 'May I accept a 200 EUR gift?',
        chosen: 'No: gifts over 50 EUR must be declined.',
        rejected: 'Yes.',
        values: ['compliance'],
        clauseIds: ['doc-1:3'],
        ...(comment ? { comment } : {}),
        author: 'reviewer@acme',
      },
    }),
  );

describe('preferenceFromFeedback', () => {
  it('keeps the pair, the values and the clauses it is about', () => {
    const preference = preferenceFromFeedback(feedback('cites the gift rule'));
    expect(Preference.parse(preference)).toEqual(preference);
    expect(preference).toMatchObject({ id: 'fb-1', values: ['compliance'], clauseIds: ['doc-1:3'], comment: 'cites the gift rule' });
  });

  it('leaves out an absent comment instead of storing undefined', () => {
    expect(preferenceFromFeedback(feedback())).not.toHaveProperty('comment');
  });
});
