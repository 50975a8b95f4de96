import { z } from 'zod';
import { ContextId, Id, IsoTime } from '../../common';

export const FEEDBACK_PREFERENCE_SUBMITTED_V1 = 'feedback.preference.submitted.v1';

/** Where a preference came from: a person's judgement, the framer's synthetic pairs, audited model answers, a red-team finding. */
export const PreferenceSource = z.enum(['human', 'synthetic', 'model', 'red-team']);
export type PreferenceSource = z.infer<typeof PreferenceSource>;

/** Why the rejected answer is worse (synthetic and model pairs); null for human judgements. */
export const RejectedKind = z.enum(['violating', 'ungrounded', 'refusing', 'contradicting', 'lower-scored']);
export type RejectedKind = z.infer<typeof RejectedKind>;

/** What a preference was derived from (all null for a person's judgement made outside a dataset or audit). */
export const PreferenceOrigin = z.object({
  datasetVersionId: Id.nullable().describe('The dataset version whose example the pair was made from'),
  exampleId: z.string().min(1).nullable().describe('The example of that dataset version'),
  auditId: Id.nullable().describe('The audit whose answers the pair compares'),
  runId: Id.nullable().describe('The training run whose model was audited'),
});
export type PreferenceOrigin = z.infer<typeof PreferenceOrigin>;

/**
 * One preference: on `prompt` (asked in `contextId`, with its system prompt and retrieved clauses),
 * `chosen` is a better answer than `rejected`. Its id is a hash of context, prompt, both answers,
 * source and annotator, so the same judgement stored twice is one record.
 */
export const Preference = z.object({
  id: Id.describe('Deterministic: sha256 of (contextId, prompt, chosen, rejected, source, annotator), sliced'),
  contextId: ContextId,
  prompt: z.string().min(1).describe("The user's question"),
  systemPrompt: z.string().min(1).nullable(),
  retrievedClauseIds: z.array(Id).describe('Clauses retrieved and shown with the prompt ([] when none)'),
  clauseIds: z.array(Id).describe('The clauses the pair is about'),
  chosen: z.string().min(1),
  rejected: z.string().min(1),
  source: PreferenceSource,
  rejectedKind: RejectedKind.nullable(),
  values: z.array(z.string().min(1)).describe('Names of the context values the pair concerns'),
  annotator: z.string().min(1).describe("'key:<id>' or 'oidc:<sub>' for people; 'framer' or 'auditor' for generated pairs"),
  explanation: z.string().nullable(),
  edited: z.boolean().describe('The annotator edited the better answer into `chosen` (it is not one of the two answers as given)'),
  origin: PreferenceOrigin,
  createdAt: IsoTime,
});
export type Preference = z.infer<typeof Preference>;

/** A person judged two answers (the gateway publishes it; the reward-model service stores the preference). */
export const FeedbackPreferenceSubmittedV1 = z
  .object({
    version: z.literal('v1'),
    contextId: ContextId,
    preference: Preference,
  })
  .refine((e) => e.preference.contextId === e.contextId, {
    message: "the preference's contextId must be the event's contextId",
    path: ['preference', 'contextId'],
  });
export type FeedbackPreferenceSubmittedV1 = z.infer<typeof FeedbackPreferenceSubmittedV1>;
