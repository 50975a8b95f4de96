import { z } from 'zod';
import { ContextId, Id, Sha256, TenantId, TrainingMethod } from '../common';

/** Queue names are contracts: never rename one in place. */
export const TRAINING_QUEUE = 'training';
export const TRAIN_JOB = 'train';

export const LoraConfig = z.object({
  r: z.number().int().min(1).max(1024),
  alpha: z.number().positive(),
  dropout: z.number().min(0).max(1),
  target_modules: z.union([z.array(z.string().min(1)).min(1), z.literal('all-linear')]),
});

export const TrainingHyperparameters = z
  .object({
    epochs: z.number().positive(),
    max_steps: z.number().int().positive().nullable(),
    learning_rate: z.number().positive(),
    batch_size: z.number().int().min(1),
    gradient_accumulation_steps: z.number().int().min(1),
    max_seq_length: z.number().int().min(16),
    seed: z.number().int(),
    eval_ratio: z.number().min(0).max(0.5),
    checkpoint_every_steps: z.number().int().min(1),
    adapter: z.enum(['lora', 'qlora', 'full']),
    lora: LoraConfig.nullable(),
    dpo_beta: z.number().positive().nullable(),
  })
  .refine((h) => h.adapter === 'full' || h.lora !== null, {
    message: 'lora settings are required when adapter is "lora" or "qlora"',
    path: ['lora'],
  });
export type TrainingHyperparameters = z.infer<typeof TrainingHyperparameters>;

/** Payload of a `train` job on the `training` queue, consumed by the Python model runtime. */
export const TrainingJobV1 = z.object({
  schema_version: z.literal('v1'),
  run_id: Id,
  tenant_id: TenantId,
  context_id: ContextId,
  method: TrainingMethod,
  base_model: z.string().min(1).describe('"tiny", "smollm2-135m-instruct" or an absolute path to a model folder'),
  dataset: z.object({
    train_path: z.string().min(1),
    eval_path: z.string().min(1).nullable(),
    sha256: Sha256,
    format: z.enum(['conversational', 'preference']),
  }),
  hyperparameters: TrainingHyperparameters,
  output_dir: z.string().min(1),
  init_adapter: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'Absolute path of a LoRA adapter artifact of the same base model to start from (method "dpo": the policy starts ' +
        'from it, trainable, and the reference model is the same adapter frozen); null: a fresh LoRA adapter',
    ),
});
export type TrainingJobV1 = z.infer<typeof TrainingJobV1>;
