import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ContextId, Id, IsoTime, TenantId } from './common';

/**
 * CloudEvents 1.0, structured JSON mode, with our `tenantid` extension and the
 * `partitionkey` extension (the context id: one context's events stay ordered).
 */
export const CloudEventAttributes = z.object({
  specversion: z.literal('1.0'),
  id: Id,
  source: z.string().min(1).describe('URI-reference of the producing service, e.g. /studio/framer'),
  type: z.string().min(1).describe('Reverse-DNS event type, e.g. studio.policy.document.uploaded.v1'),
  time: IsoTime,
  subject: z.string().min(1).optional(),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().min(1),
  tenantid: TenantId,
  partitionkey: ContextId,
});
export type CloudEventAttributes = z.infer<typeof CloudEventAttributes>;

export function cloudEventSchema<D extends z.ZodType>(data: D) {
  return CloudEventAttributes.extend({ data });
}

export type CloudEvent<D> = CloudEventAttributes & { data: D };

/** Event type and schema URI for a topic: the topic name is the single source of both. */
export function eventTypeFor(topic: string): string {
  return `studio.${topic}`;
}
export function dataSchemaFor(topic: string): string {
  return `urn:studio:schema:${topic}`;
}

export interface NewEventInput<D> {
  topic: string;
  source: string;
  tenantId: string;
  contextId: string;
  data: D;
  subject?: string;
  id?: string;
  time?: Date;
}

/** Builds an envelope (no validation here: the bus validates on publish). */
export function buildCloudEvent<D>(input: NewEventInput<D>): CloudEvent<D> {
  return {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    source: input.source,
    type: eventTypeFor(input.topic),
    time: (input.time ?? new Date()).toISOString(),
    ...(input.subject ? { subject: input.subject } : {}),
    datacontenttype: 'application/json',
    dataschema: dataSchemaFor(input.topic),
    tenantid: input.tenantId,
    partitionkey: input.contextId,
    data: input.data,
  };
}
