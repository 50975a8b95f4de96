import { z } from 'zod';
import { ContextId, Id, IsoTime } from '../../common';

export const CHAT_CONVERSATION_SAMPLED_V1 = 'chat.conversation.sampled.v1';

/** One message the caller sent (developer messages arrive as system). */
export const SampledMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type SampledMessage = z.infer<typeof SampledMessage>;

/** A clause retrieved to ground the answer: its text, and whether the model cited it. */
export const SampledClause = z.object({
  clauseId: Id,
  numbering: z.string(),
  citation: z.string().describe('How the answer refers to it, e.g. §3.1'),
  text: z.string().describe("The clause's text as the model was shown it"),
  cited: z.boolean().describe('The model cited it in its answer (false: only added to the sources line)'),
});
export type SampledClause = z.infer<typeof SampledClause>;

/**
 * A conversation with a deployed model, sampled by the gateway's chat endpoint (CHAT_SAMPLE_RATE)
 * after its answer was sent, for the post-deployment audit: the auditor stores it and scores the
 * deployment's samples of each window against the release audit of the deployed run. The tenant
 * is the event's `tenantid`.
 */
export const ChatConversationSampledV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  conversationId: Id.describe('The chat completion id (chatcmpl-…)'),
  deploymentId: Id,
  runId: Id.describe('The training run whose adapter answered'),
  adapterId: Id,
  auditRunId: Id.nullable().describe("The deployment's release audit (null: deployed without one)"),
  systemPrompt: z.string().min(1).describe("The deployment's system prompt (its dataset version's), before the retrieved clauses"),
  messages: z.array(SampledMessage).min(1),
  answer: z.string().describe('The answer as the caller got it (with the sources line the gateway adds when the model cites no clause)'),
  modelText: z.string().describe("The model's own text: the answer without the gateway's sources line (what the drift metrics score)"),
  clauses: z.array(SampledClause).describe('The retrieved clauses, in retrieval order'),
  finishReason: z.string().nullable(),
  stream: z.boolean(),
  sampledAt: IsoTime,
});
export type ChatConversationSampledV1 = z.infer<typeof ChatConversationSampledV1>;
