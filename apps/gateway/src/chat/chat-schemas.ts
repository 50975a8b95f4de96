import { ContextId, Id, IsoTime } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** Body of POST /v1/contexts/{contextId}/deployments. */
export const DeployRequest = z
  .object({
    runId: Id.describe('A completed training run of this context, with its adapter'),
    override: z
      .object({
        reason: z
          .string()
          .trim()
          .min(10, 'must say why, in at least 10 characters')
          .max(2_000)
          .describe('Why the adapter is deployed without a PASS verdict (kept in the deployment and the audit log)'),
      })
      .strict()
      .optional()
      .describe('Deploy although the audit verdict is not PASS (permission deployments:override, admins)'),
  })
  .strict();
export type DeployRequest = z.infer<typeof DeployRequest>;

/** Who did it: from the credential. */
export const Actor = z.object({ subject: z.string().min(1), name: z.string(), role: z.string().min(1) });
export type Actor = z.infer<typeof Actor>;

/** The audit a deployment relied on (or overrode). */
export const DeploymentAudit = z.object({
  auditRunId: Id.nullable(),
  /** pass, fail, or the audit's state when it has no verdict (queued, running, failed, missing). */
  verdict: z.string().min(1),
  stale: z.boolean(),
});
export type DeploymentAudit = z.infer<typeof DeploymentAudit>;

/** One deployment: an audited adapter marked as its context's model. */
export const DeploymentRecord = z.object({
  id: Id.describe('deployment id'),
  contextId: ContextId,
  runId: Id,
  adapterId: Id,
  /** Where the model server loads the adapter from (the instructor's adapter record). */
  adapterDir: z.string().min(1),
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  /** The dataset version's system prompt: the adapter was trained and audited with it. */
  systemPrompt: z.string().min(1),
  audit: DeploymentAudit,
  override: z.object({ reason: z.string().min(1) }).nullable(),
  previousDeploymentId: Id.nullable(),
  deployedAt: IsoTime,
  deployedBy: Actor,
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

export const DEPLOYMENT_HISTORY: EntitySpec<DeploymentRecord> = {
  collection: 'deployments',
  schema: DeploymentRecord,
  indexes: [{ fields: { contextId: 1, deployedAt: -1 } }],
};

/** The current deployment of a context (id = the context id, which is the model id). */
export const CurrentDeployment = DeploymentRecord.omit({ id: true }).extend({ id: ContextId, deploymentId: Id });
export type CurrentDeployment = z.infer<typeof CurrentDeployment>;

export const CURRENT_DEPLOYMENTS: EntitySpec<CurrentDeployment> = {
  collection: 'current_deployments',
  schema: CurrentDeployment,
};

const TextPart = z.object({ type: z.literal('text'), text: z.string() });

/** One message of a chat request; content as a string or as text parts (other part types are refused). */
export const ChatMessageInput = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z
    .union([z.string(), z.array(TextPart).min(1)])
    .refine((c) => (typeof c === 'string' ? c : c.map((p) => p.text).join('')).length <= 32_000, 'must be at most 32000 characters'),
  name: z.string().max(64).optional(),
});

/** Body of POST /v1/chat/completions (the OpenAI chat completions request, the fields a deployed adapter honours). */
export const ChatCompletionRequest = z.object({
  model: z.string().min(1).max(200).describe('The context id of a deployed model (GET /v1/models)'),
  messages: z.array(ChatMessageInput).min(1, 'must hold at least one message').max(200),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).max(4_096).nullish(),
  max_completion_tokens: z.number().int().min(1).max(4_096).nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  seed: z.number().int().nullish(),
  n: z.literal(1, 'only n=1 is supported').nullish(),
  user: z.string().max(256).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** A stored conversation (a sampled share of the chats), for post-deployment audits. */
export const ConversationRecord = z.object({
  id: Id,
  contextId: ContextId,
  deploymentId: Id,
  adapterId: Id,
  caller: Actor,
  messages: z.array(z.object({ role: z.string(), content: z.string() })),
  answer: z.string(),
  citations: z.array(z.object({ clauseId: z.string(), numbering: z.string(), citation: z.string(), cited: z.boolean() })),
  finishReason: z.string().nullable(),
  stream: z.boolean(),
  createdAt: IsoTime,
});
export type ConversationRecord = z.infer<typeof ConversationRecord>;

export const CONVERSATIONS: EntitySpec<ConversationRecord> = {
  collection: 'conversations',
  schema: ConversationRecord,
  indexes: [{ fields: { contextId: 1, createdAt: -1 } }],
};

export const ListLimit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(500, 'must be at most 500'))
  .default(50);
