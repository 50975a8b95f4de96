import { z } from 'zod';
import { Id } from '../common';

/** A chat message of a preference row. */
const Message = (role: z.ZodType<string>) => z.object({ role, content: z.string() });

/**
 * One line of a preference dataset file (TRL's conversational preference format, plus a weight):
 * what `studio-runtime train dpo|reward` reads (`load_preferences`). The prompt is the system
 * prompt, if any, and the user's question; chosen and rejected are the two assistant answers.
 */
export const PreferenceRowV1 = z.object({
  prompt: z
    .array(Message(z.enum(['system', 'user'])))
    .min(1)
    .describe('The system prompt (optional) then the user question'),
  chosen: z.array(Message(z.literal('assistant'))).length(1),
  rejected: z.array(Message(z.literal('assistant'))).length(1),
  weight: z.number().min(0).describe('The aggregation weight (priority × agreement × source × verdict balance); 0 contributes nothing'),
  values: z.array(z.string().min(1)).describe('Names of the context values the pair concerns'),
  preference_id: Id,
  clause_ids: z.array(Id).describe('The clauses the pair is about'),
});
export type PreferenceRowV1 = z.infer<typeof PreferenceRowV1>;
