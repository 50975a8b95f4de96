import { ContextId, Id, PreferenceSource } from '@studio/contracts';
import { z } from 'zod';

/**
 * Requests of the feedback API: a person's judgement of two answers (POST …/feedback), and the
 * queries and bodies of the preferences, preference datasets and resolutions the reward-model
 * service keeps (the gateway checks them here, the service checks them again).
 */

const TEXT_MAX = 20_000;
const blank = (value: string) => value.trim().length === 0;

const Text = (what: string) =>
  z
    .string()
    .max(TEXT_MAX, `must be at most ${TEXT_MAX} characters`)
    .refine((v) => !blank(v), { message: 'must not be empty' })
    .describe(what);

/** Body of POST /v1/contexts/{contextId}/feedback. */
export const FeedbackRequest = z
  .object({
    prompt: Text("The user's question the two answers answer"),
    systemPrompt: Text('The system prompt the answers were generated with (null or absent: none)').nullable().default(null),
    retrievedClauseIds: z.array(Id).max(200).default([]).describe('Clauses retrieved and shown with the prompt'),
    clauseIds: z.array(Id).max(200).default([]).describe('The clauses the judgement is about (e.g. a held-out item’s cited clauses)'),
    answers: z.tuple([Text('Answer 0'), Text('Answer 1')]).describe('The two answers judged, as they were shown'),
    choice: z
      .union([z.literal(0), z.literal(1)], { message: 'must be 0 or 1 (the index of the better answer)' })
      .describe('Which of the two answers is better (its index); the other is the rejected one'),
    editedChosen: z
      .string()
      .max(TEXT_MAX, `must be at most ${TEXT_MAX} characters`)
      .optional()
      .describe(
        'The better answer as the annotator edited it: it becomes the chosen answer (`edited: true`); leave it out to choose the answer as given. Must not be empty, nor either answer unchanged',
      ),
    explanation: z.string().max(5_000, 'must be at most 5000 characters').optional().describe('Why the chosen answer is better'),
    values: z
      .array(z.string().min(1).max(100))
      .max(50)
      .default([])
      .describe("Names of the context's values the judgement concerns (each must be a value of the context's values file)"),
    origin: z
      .object({
        datasetVersionId: Id.optional().describe('The dataset version of the held-out item asked'),
        exampleId: z.string().min(1).max(300).optional().describe('The held-out item asked'),
        runId: Id.optional().describe('The training run whose answers were compared'),
      })
      .strict()
      .optional()
      .describe('Where the two answers came from (the compare of a run, a held-out item)'),
  })
  .strict()
  .superRefine((body, ctx) => {
    const [a, b] = body.answers;
    if (a.trim() === b.trim())
      ctx.addIssue({
        code: 'custom',
        path: ['answers'],
        message: 'the two answers are the same: a preference needs two different answers',
      });
    if (body.editedChosen !== undefined) {
      const edited = body.editedChosen.trim();
      const chosen = body.answers[body.choice].trim();
      const rejected = body.answers[body.choice === 0 ? 1 : 0].trim();
      if (edited.length === 0)
        ctx.addIssue({ code: 'custom', path: ['editedChosen'], message: 'must not be empty (leave it out to choose the answer as given)' });
      else if (edited === rejected)
        ctx.addIssue({ code: 'custom', path: ['editedChosen'], message: 'is the rejected answer: the chosen answer must differ from it' });
      else if (edited === chosen)
        ctx.addIssue({
          code: 'custom',
          path: ['editedChosen'],
          message: 'is the chosen answer unchanged: leave editedChosen out when the answer is not edited',
        });
    }
    const seen = new Set<string>();
    body.values.forEach((value, i) => {
      if (seen.has(value)) ctx.addIssue({ code: 'custom', path: ['values', i], message: `names the value "${value}" twice` });
      seen.add(value);
    });
  });
export type FeedbackRequest = z.input<typeof FeedbackRequest>;
export type FeedbackBody = z.output<typeof FeedbackRequest>;

export const FeedbackAnswer = z.object({
  preferenceId: Id.describe('The id of the stored preference (deterministic: the same judgement by the same annotator has the same id)'),
});

const WholeNumber = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .refine((v) => Number(v) <= max, { message: `must be at most ${max}` });

/** Query of GET /v1/contexts/{contextId}/preferences. */
export const PreferencesQuery = z
  .object({
    source: PreferenceSource.optional().describe('Only preferences of this source'),
    limit: WholeNumber(1_000)
      .refine((v) => Number(v) >= 1, { message: 'must be at least 1' })
      .optional(),
    offset: WholeNumber(10_000_000).optional(),
  })
  .strict();
export type PreferencesQueryParams = z.infer<typeof PreferencesQuery>;

/** Body of POST /v1/contexts/{contextId}/preference-datasets. */
export const PublishPreferenceDatasetRequest = z
  .object({
    heldOutRatio: z
      .number()
      .min(0)
      .max(0.5)
      .optional()
      .describe('Share of preferences held out to measure a reward model (default: the service’s)'),
    sources: z
      .array(PreferenceSource)
      .min(1, 'must name at least one source')
      .optional()
      .describe('Only preferences of these sources (default: every source)'),
  })
  .strict();
export type PublishPreferenceDatasetRequest = z.infer<typeof PublishPreferenceDatasetRequest>;

/** Query of GET /v1/contexts/{contextId}/resolutions. */
export const ResolutionsQuery = z
  .object({ preferenceDatasetId: Id.optional().describe('Resolutions of this preference dataset version (default: the newest)') })
  .strict();
export type ResolutionsQueryParams = z.infer<typeof ResolutionsQuery>;

export { ContextId };
