import { z } from 'zod';

/** Identifiers are opaque, URL-safe strings: letters, digits, '.', '_', '-', ':' (1–128 chars). */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must contain only letters, digits, ".", "_", "-" or ":"');

export const TenantId = Id.describe('Tenant that owns the data');
export const ContextId = Id.describe('Alignment context (one rule set, e.g. a company policy)');
export const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lower-case hex SHA-256 digest');
export const IsoTime = z.iso.datetime({ offset: true });
export const NonNegativeInt = z.number().int().nonnegative();
export const Metrics = z.record(z.string(), z.number());

export const TrainingMethod = z.enum(['sft', 'reward', 'dpo']);
export type TrainingMethod = z.infer<typeof TrainingMethod>;

export const ErrorInfo = z.object({
  type: z.string().min(1),
  message: z.string().min(1),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;
