import { buildCloudEvent, type EventData, type Topic } from '@studio/contracts';
import type { EventBus, TenantId } from '@studio/ports';
import { STUDIO_SOURCE } from './ports';

export interface PublishInput<T extends Topic> {
  tenant: TenantId;
  contextId: string;
  data: EventData<T>;
  /** Deterministic event id where the event describes a fact that can be re-stated (re-runs). */
  id?: string;
  subject?: string;
  /** CloudEvents `source`; the CLI's by default, a service's own where a service publishes. */
  source?: string;
}

/** Builds the CloudEvent for `topic` and publishes it (the bus validates it against the contract). */
export async function publishEvent<T extends Topic>(bus: EventBus, topic: T, input: PublishInput<T>): Promise<void> {
  await bus.publish(
    topic,
    buildCloudEvent<EventData<T>>({
      topic,
      source: input.source ?? STUDIO_SOURCE,
      tenantId: input.tenant,
      contextId: input.contextId,
      data: input.data,
      ...(input.id ? { id: input.id } : {}),
      ...(input.subject ? { subject: input.subject } : {}),
    }),
  );
}
