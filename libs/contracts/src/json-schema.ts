import { z } from 'zod';
import { DocumentDiffV1, DocumentVersionsV1 } from './api/document-versions';
import { cloudEventSchema, dataSchemaFor } from './cloudevents';
import { DeadLetterRecordV1, DEAD_LETTER_V1 } from './events/platform/dead-letter';
import { JOBS } from './jobs';
import { PreferenceRowV1 } from './runtime/preference-row';
import { RuntimeProgressV1 } from './runtime/progress';
import { TOPICS } from './topics';

/**
 * Every JSON Schema the platform publishes, keyed by its path under libs/contracts/json-schema.
 * Non-TypeScript consumers (the Python runtime, downstream systems) read these files.
 */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const add = (file: string, id: string, schema: z.ZodType) => {
    out[file] = { $id: id, ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) };
  };
  for (const [topic, data] of Object.entries(TOPICS)) {
    add(`events/${topic}.schema.json`, dataSchemaFor(topic), cloudEventSchema(data));
  }
  add(`events/${DEAD_LETTER_V1}.schema.json`, dataSchemaFor(DEAD_LETTER_V1), DeadLetterRecordV1);
  for (const [job, { queue, schema }] of Object.entries(JOBS)) {
    add(`jobs/${queue}.v1.schema.json`, `urn:studio:schema:job:${queue}:${job}.v1`, schema);
  }
  add('api/document-versions.v1.schema.json', 'urn:studio:schema:api:document-versions.v1', DocumentVersionsV1);
  add('api/document-diff.v1.schema.json', 'urn:studio:schema:api:document-diff.v1', DocumentDiffV1);
  add('runtime/progress.v1.schema.json', 'urn:studio:schema:runtime.progress.v1', RuntimeProgressV1);
  add('runtime/preference-row.v1.schema.json', 'urn:studio:schema:runtime.preference-row.v1', PreferenceRowV1);
  return out;
}
