import { z } from 'zod';
import { ContextId, Id, TenantId } from '../common';

/** Queue names are contracts: never rename one in place. */
export const GENERATION_QUEUE = 'generation';
export const GENERATE_DATASET_JOB = 'generate-dataset';

/**
 * Payload of a `generate-dataset` job on the `generation` queue: a dataset version of a context
 * whose examples are expanded by a teacher model (the framer's worker runs it; the context's
 * values and seeds are read when the job runs). The teacher endpoint is the worker's configuration;
 * the payload names the model and how hard to push it.
 */
export const GenerationJobV1 = z.object({
  schema_version: z.literal('v1'),
  tenant_id: TenantId,
  context_id: ContextId,
  /** The framed document to generate from; null: the context's most recently received one. */
  document_id: Id.nullable(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  held_out_ratio: z.number().min(0.05).max(0.5),
  teacher: z.object({
    model: z.string().min(1).max(500),
    concurrency: z.number().int().min(1).max(256),
    max_per_clause: z.number().int().min(1).max(1_000),
    max_clauses: z.number().int().min(1).nullable(),
  }),
});
export type GenerationJobV1 = z.infer<typeof GenerationJobV1>;
