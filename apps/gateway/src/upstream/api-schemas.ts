import type { SchemaObject } from '@nestjs/swagger';
import { ContextId, Id, Name, TrainingMethod } from '@studio/contracts';
import { AuditThresholds } from '@studio/auditing';
import { ContextValues, SeedsJsonl } from '@studio/framing';
import { z } from 'zod';

/** JSON Schema (OpenAPI 3.0 flavour) of a request or response schema, for the /docs document. */
export const openApi = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as SchemaObject;

/** Body of POST /v1/contexts. */
export const CreateContextRequest = z
  .object({
    id: ContextId,
    name: Name(200).describe('Display name of the context (no control or bidi-override characters)'),
    values: ContextValues.nullable()
      .default(null)
      .describe('The values file: the values and their priorities, and the audit section (snake_case thresholds)'),
    thresholds: AuditThresholds.optional().describe(
      'Release-gate thresholds; by default taken from values.audit, else the auditing defaults',
    ),
    seeds: SeedsJsonl.max(2_000_000)
      .nullable()
      .default(null)
      .describe(
        'Hand-written seed examples as JSON lines, checked line by line here (JSON, fields, labels, unique ids), or an InstructLab taxonomy qna.yaml (knowledge version 3 or compositional skill version 2, told apart from JSON lines by content, checked here with the line and field of a problem); clause references are checked against the document when a dataset is generated, and each qna.yaml pair is linked to the clauses its answer matches (a pair matching none is dropped and counted)',
      ),
  })
  .strict();
export type CreateContextRequest = z.infer<typeof CreateContextRequest>;

/** Body of POST /v1/contexts/{contextId}/datasets. */
export const GenerateDatasetRequest = z
  .object({
    documentId: Id.optional().describe(
      'Generate from this framed document only; by default from every document of the context, each at its current version',
    ),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42)
      .describe('Seed of the template choices and of the split: same seed, same dataset version'),
    heldOutRatio: z.number().min(0.05).max(0.5).default(0.1).describe('Share of distinct questions held out for the audit'),
    full: z
      .boolean()
      .default(false)
      .describe(
        'Regenerate every example. By default, after a version with the same settings, examples whose clauses are unchanged are kept verbatim and only those of added, changed and renumbered clauses are generated (the answer’s `incremental` counts kept / regenerated / dropped)',
      ),
    teacher: z
      .object({
        model: z
          .string()
          .min(1)
          .max(500)
          .optional()
          .describe('Teacher model at the framer’s TEACHER_BASE_URL (default: its TEACHER_MODEL)'),
        concurrency: z.number().int().min(1).max(256).default(4).describe('Teacher requests in flight at once'),
        maxPerClause: z.number().int().min(1).max(1_000).default(8).describe('Cap on synthetic examples kept per clause'),
        maxClauses: z.number().int().min(1).nullable().default(null).describe('Only the first n clauses that carry a rule (null: all)'),
      })
      .strict()
      .optional()
      .describe(
        'Expand the data with a teacher model (Q&A variants, paraphrases, two-clause questions, scenarios of every label), keeping only examples grounded in their clauses and not near-duplicates: the version is generated on the `generation` queue (202 with the job to follow)',
      ),
  })
  .strict();
export type GenerateDatasetRequest = z.infer<typeof GenerateDatasetRequest>;

/** Body of POST /v1/contexts/{contextId}/runs (the instructor checks what each method needs). */
export const StartRunRequest = z
  .object({
    method: TrainingMethod.default('sft').describe(
      'sft (default): fine-tune the base model on a dataset version; dpo: improve the adapter of parentRunId with a preference dataset; reward: train a reward model on a preference dataset',
    ),
    datasetVersionId: Id.optional().describe(
      'A published dataset version of this context (sft: required; dpo: the parent run’s; reward: defaults to the context’s newest)',
    ),
    baseModel: Name(500)
      .optional()
      .describe(
        '"tiny", "smollm2-135m-instruct" or a model folder the training workers can read (sft and reward: required; dpo: the parent run’s)',
      ),
    preferenceDatasetId: Id.optional().describe('dpo and reward: a published preference dataset version of this context'),
    parentRunId: Id.optional().describe('dpo: the completed training run (SFT, or an earlier DPO round) whose adapter the run starts from'),
    hyperparameters: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        'Overrides of the method’s training defaults (epochs, max_steps, learning_rate, batch_size, max_seq_length, seed, lora, dpo_beta for dpo, ...); the instructor validates them',
      ),
  })
  .strict();
export type StartRunRequest = z.infer<typeof StartRunRequest>;

export const ReportFormat = z.enum(['json', 'md']).default('json').describe('json (default) or md (Markdown)');
