import { ContextId, IsoTime, Name } from '@studio/contracts';
import { AuditThresholds } from '@studio/auditing';
import { ContextValues, SeedsJsonl } from '@studio/framing';
import { auditThresholdsFor } from '@studio/pipeline';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** Body of PUT /v1/contexts/{contextId}. */
export const ContextSettingsBody = z
  .object({
    name: Name(200),
    values: ContextValues.nullable().default(null),
    thresholds: AuditThresholds.optional(),
    seeds: SeedsJsonl.max(2_000_000).nullable().default(null),
  })
  .strict();
export type ContextSettingsBody = z.infer<typeof ContextSettingsBody>;

/** A context: one rule set, its values and priorities, release-gate thresholds and seed examples. */
export const ContextSettings = z.object({
  id: ContextId,
  name: z.string().min(1),
  values: ContextValues.nullable(),
  thresholds: AuditThresholds,
  seeds: z.string().nullable().describe('seed examples: JSON lines or an InstructLab qna.yaml'),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type ContextSettings = z.infer<typeof ContextSettings>;

export const CONTEXTS: EntitySpec<ContextSettings> = {
  collection: 'contexts',
  schema: ContextSettings,
  indexes: [{ fields: { updatedAt: -1 } }],
};

/** A context in a list: its settings without the (possibly large) seed text. */
export type ContextSummary = Omit<ContextSettings, 'seeds'> & { hasSeeds: boolean };
export function contextSummary({ seeds, ...rest }: ContextSettings): ContextSummary {
  return { ...rest, hasSeeds: seeds !== null };
}
export const CONTEXTS_REPOSITORY = Symbol('CONTEXTS_REPOSITORY');

/**
 * The release-gate thresholds of a context: those given, else the values file's `audit` section
 * (its snake_case fields), else the auditing defaults.
 */
export function thresholdsFor(body: Pick<ContextSettingsBody, 'values' | 'thresholds'>): AuditThresholds {
  return body.thresholds ?? auditThresholdsFor(body.values, 'values.audit');
}

export function contextFrom(id: string, body: ContextSettingsBody, existing: ContextSettings | null, now: Date): ContextSettings {
  return {
    id,
    name: body.name,
    values: body.values,
    thresholds: thresholdsFor(body),
    seeds: body.seeds,
    createdAt: existing?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
