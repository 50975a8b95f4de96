import { z } from 'zod';
import { ContextId, Id, TenantId } from '../common';

export const GENERATION_QUEUE = 'generation';
export const GENERATE_DATASET_JOB = 'generate-dataset';

/** Payload of a `generate-dataset` job: turn a context's framed clauses into a dataset version. */
export const GenerationJobV1 = z.object({
  schema_version: z.literal('v1'),
  tenant_id: TenantId,
  context_id: ContextId,
  dataset_version_id: Id,
  document_ids: z.array(Id).min(1),
  strategies: z.array(z.enum(['seeds', 'templates', 'teacher'])).min(1),
  teacher_model: z.string().min(1).nullable(),
  held_out_ratio: z.number().min(0).max(0.5),
  seed: z.number().int(),
});
export type GenerationJobV1 = z.infer<typeof GenerationJobV1>;
