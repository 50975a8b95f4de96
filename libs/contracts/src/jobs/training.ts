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

/** What a checkpoint evaluation's early stop watches: the held-out slice's token F1 (higher is better) or its loss (lower is better). */
export const CheckpointEvalMetric = z.enum(['token_f1', 'heldout_loss']);
export type CheckpointEvalMetric = z.infer<typeof CheckpointEvalMetric>;

/**
 * Stop training on regression: an evaluation regresses when `metric` is worse than the best evaluation so far by more
 * than `min_delta`; after `patience` regressing evaluations in a row training stops, and the artifact is the weights
 * of the best evaluation (as it is whenever early stop is set).
 */
export const EarlyStopSettings = z.object({
  metric: CheckpointEvalMetric,
  patience: z.number().int().min(1).max(100),
  min_delta: z.number().min(0),
});
export type EarlyStopSettings = z.infer<typeof EarlyStopSettings>;

/**
 * Checkpoint evaluations during training: before the first step, every `every_steps` steps and at the last step, the
 * model answers a fixed slice of `items` held-out questions greedily (at most `max_new_tokens` tokens each) and is scored
 * by token F1 against the reference answers (the auditor's tokenF1) and by its loss on the reference answers.
 * Needs the job's `dataset.held_out_path`; a causal LM only (not method "reward").
 */
export const CheckpointEvalSettings = z.object({
  every_steps: z.number().int().min(1),
  items: z.number().int().min(1).max(512),
  max_new_tokens: z.number().int().min(1).max(1024),
  early_stop: EarlyStopSettings.nullable(),
});
export type CheckpointEvalSettings = z.infer<typeof CheckpointEvalSettings>;

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
    dpo_sft_weight: z
      .number()
      .min(0)
      .nullable()
      .optional()
      .describe("DPO: weight of the chosen answers' mean token NLL added to each pair's loss (RPO); null or absent: the runtime's default"),
    checkpoint_eval: CheckpointEvalSettings.nullable()
      .optional()
      .describe('Checkpoint evaluations on a held-out slice during training; null or absent: none'),
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
    held_out_path: z
      .string()
      .min(1)
      .nullable()
      .optional()
      .describe("The dataset version's held-out conversations (JSON lines), answered by checkpoint evaluations; null or absent: none"),
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
