import { z } from 'zod';
import { Id } from '../common';

/**
 * The red-team workspace's public request bodies (the gateway's API; the auditor, which stores
 * trials and findings, takes the same with the caller added by the gateway).
 */

/** The four outcomes of a side-by-side trial, as the original Alignment Studio buckets them. */
export const RED_TEAM_BUCKETS = ['both_fine', 'only_base_right', 'only_aligned_right', 'both_fail'] as const;
export const RedTeamBucket = z.enum(RED_TEAM_BUCKETS);
export type RedTeamBucket = z.infer<typeof RedTeamBucket>;

const Text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Body of POST /v1/contexts/{contextId}/red-team/trials: a written prompt, or a generated attack to replay. */
export const RedTeamTrialBody = z
  .object({
    prompt: Text(4_000).optional().describe('An attack written by hand (one user turn)'),
    attackId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('A generated attack of the context (GET …/red-team/attacks), replayed turn by turn'),
    runId: Id.optional().describe("The completed training run whose adapter answers as the aligned model (default: the context's newest)"),
  })
  .strict();

/** Exactly one of prompt and attackId. */
export function oneQuestion<T extends { prompt?: string | undefined; attackId?: string | undefined }>(schema: z.ZodType<T>) {
  return schema.refine((r) => (r.prompt === undefined) !== (r.attackId === undefined), {
    message: 'give exactly one of prompt and attackId',
  });
}
export const RedTeamTrialRequest = oneQuestion(RedTeamTrialBody);
export type RedTeamTrialRequest = z.infer<typeof RedTeamTrialRequest>;

/** Body of POST /v1/contexts/{contextId}/red-team/findings. */
export const RedTeamFindingRequest = z
  .object({
    trialId: Id,
    bucket: RedTeamBucket,
    note: z.string().max(4_000, 'must be at most 4000 characters').default('').describe('What the red-teamer saw'),
  })
  .strict();
export type RedTeamFindingRequest = z.infer<typeof RedTeamFindingRequest>;

/** Body of POST …/red-team/findings/{findingId}/preference and …/seed. */
export const RedTeamConversionRequest = z
  .object({
    editedAnswer: Text(8_000)
      .optional()
      .describe(
        'The right answer as the red-teamer writes it: needed when neither answer is right (both_fail), else it replaces the right one',
      ),
  })
  .strict();
export type RedTeamConversionRequest = z.infer<typeof RedTeamConversionRequest>;
