import { z } from 'zod';
import { ContextId, Id } from '../../common';

export const FEEDBACK_SUBMITTED_V1 = 'feedback.preference.submitted.v1';

export const FeedbackSubmittedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  feedbackId: Id,
  prompt: z.string().min(1),
  chosen: z.string().min(1),
  rejected: z.string().min(1),
  values: z.array(z.string().min(1)).default([]),
  clauseIds: z.array(Id).default([]),
  comment: z.string().max(4000).optional(),
  author: z.string().min(1).max(200),
});
export type FeedbackSubmittedV1 = z.infer<typeof FeedbackSubmittedV1>;
