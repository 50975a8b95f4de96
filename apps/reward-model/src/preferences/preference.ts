import { ContextId, Id, IsoTime, type CloudEvent, type FeedbackSubmittedV1 } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A person's preference between two answers: input to value aggregation and reward models. */
export const Preference = z.object({
  id: Id.describe('The feedback id'),
  contextId: ContextId,
  prompt: z.string().min(1),
  chosen: z.string().min(1),
  rejected: z.string().min(1),
  values: z.array(z.string().min(1)),
  clauseIds: z.array(Id),
  comment: z.string().optional(),
  author: z.string().min(1),
  submittedAt: IsoTime,
  feedbackEventId: Id,
});
export type Preference = z.infer<typeof Preference>;

export const PREFERENCES: EntitySpec<Preference> = {
  collection: 'preferences',
  schema: Preference,
  indexes: [{ fields: { contextId: 1, submittedAt: -1 } }],
};

export function preferenceFromFeedback(event: CloudEvent<FeedbackSubmittedV1>): Preference {
  const d = event.data;
  return {
    id: d.feedbackId,
    contextId: d.contextId,
    prompt: d.prompt,
    chosen: d.chosen,
    rejected: d.rejected,
    values: d.values,
    clauseIds: d.clauseIds,
    ...(d.comment !== undefined ? { comment: d.comment } : {}),
    author: d.author,
    submittedAt: event.time,
    feedbackEventId: event.id,
  };
}
