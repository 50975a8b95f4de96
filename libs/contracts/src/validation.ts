import { z } from 'zod';
import { cloudEventSchema, dataSchemaFor, eventTypeFor, type CloudEvent } from './cloudevents';
import { isTopic, TOPICS, type EventData, type Topic } from './topics';

export class ContractViolation extends Error {
  constructor(
    readonly subject: string,
    readonly issues: string,
  ) {
    super(`${subject} does not match its contract: ${issues}`);
    this.name = 'ContractViolation';
  }
}

const envelopes = new Map<Topic, z.ZodType>();
function envelopeFor(topic: Topic): z.ZodType {
  let schema = envelopes.get(topic);
  if (!schema) {
    schema = cloudEventSchema(TOPICS[topic]).refine((e) => e.type === eventTypeFor(topic), {
      message: `type must be ${eventTypeFor(topic)}`,
      path: ['type'],
    });
    envelopes.set(topic, schema);
  }
  return schema;
}

/** Validates a structured CloudEvent for a topic; throws ContractViolation naming every problem. */
export function parseEvent<T extends Topic>(topic: T, value: unknown): CloudEvent<EventData<T>> {
  if (!isTopic(topic)) throw new ContractViolation(`topic "${String(topic)}"`, 'unknown topic');
  const result = envelopeFor(topic).safeParse(value);
  if (!result.success) throw new ContractViolation(`event on ${topic}`, z.prettifyError(result.error));
  return result.data as CloudEvent<EventData<T>>;
}

/** Parses raw bytes/text as JSON first, so a non-JSON message gets a clear reason too. */
export function decodeEvent<T extends Topic>(topic: T, raw: string | Buffer | null): CloudEvent<EventData<T>> {
  if (raw === null || raw.length === 0) throw new ContractViolation(`event on ${topic}`, 'message has no value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (err) {
    throw new ContractViolation(`event on ${topic}`, `value is not JSON (${(err as Error).message})`);
  }
  return parseEvent(topic, json);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ContractViolation(subject, z.prettifyError(result.error));
  return result.data;
}

export { dataSchemaFor };
