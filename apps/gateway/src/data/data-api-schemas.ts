import { DatasetReview } from '@studio/contracts';
import { ExamplesQuery, ReviewRequest } from '@studio/pipeline';
import { z } from 'zod';

/**
 * Requests and answers of the studio's data API (contexts, documents, clauses, dataset versions,
 * examples and the review queue). The framer owns the data and checks the same rules again.
 */

/** Query of GET /v1/contexts/{contextId}/clauses. */
export const ClausesQuery = z
  .object({
    q: z
      .string()
      .max(500, 'must be at most 500 characters')
      .optional()
      .describe('Search: clauses that contain every term (word prefixes) of it'),
    documentId: z.string().min(1).max(200).optional().describe("Only this document's clauses"),
  })
  .strict();
// Type names apart from the schemas: a parameter typed by a value (the schema) confuses the OpenAPI scanner.
export type ClausesQueryParams = z.infer<typeof ClausesQuery>;

/** Query of GET …/datasets/{datasetVersionId}/examples. */
export { ExamplesQuery };

/** Query of GET …/datasets/{datasetVersionId}/review (the queue). */
export const ReviewQueueQuery = ExamplesQuery.pick({
  offset: true,
  limit: true,
  split: true,
  kind: true,
  label: true,
  clauseId: true,
}).strict();
export type ReviewQueueQueryParams = z.infer<typeof ReviewQueueQuery>;
export type ExamplesQueryParams = z.infer<typeof ExamplesQuery>;

/** Body of POST …/datasets/{datasetVersionId}/reviews. */
export { ReviewRequest };

const ShownExample = z.object({
  id: z.string(),
  question: z.string(),
  answer: z.string(),
  review: z.object({ status: z.enum(['approved', 'edited']), by: z.string(), originalId: z.string().nullable() }).optional(),
});

/** What the framer answers to a review (checked before the gateway records each decision). */
export const ReviewAnswer = z.object({
  dataset: z.object({ id: z.string().min(1), sha256: z.string() }).loose(),
  parentDatasetVersionId: z.string().min(1),
  created: z.boolean(),
  review: DatasetReview,
  decisions: z.array(
    z.object({
      exampleId: z.string(),
      action: z.enum(['approve', 'edit', 'reject']),
      split: z.enum(['train', 'heldOut']),
      before: ShownExample,
      after: ShownExample.nullable(),
    }),
  ),
});
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

/** Audit-log actions of a review's decisions, and of the review as a whole. */
export const REVIEW_ACTIONS = {
  approve: 'dataset.example.approved',
  edit: 'dataset.example.edited',
  reject: 'dataset.example.rejected',
} as const;
export const DATASET_REVIEWED = 'dataset.reviewed';
