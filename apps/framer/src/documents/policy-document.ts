import { ContextId, DocumentUploadedV1, Id, IsoTime, type CloudEvent } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A policy document as the framer knows it: where its bytes are, and how far framing got. */
export const PolicyDocument = z.object({
  id: Id.describe('The document id from the upload event'),
  contextId: ContextId,
  filename: z.string().min(1),
  mediaType: DocumentUploadedV1.shape.mediaType,
  sha256: DocumentUploadedV1.shape.sha256,
  sizeBytes: z.number().int().nonnegative(),
  storageUri: z.string().min(1).describe('Where the original bytes are: the artifact store once framed, the upload event’s URI before'),
  status: z.enum(['received', 'framed', 'rejected']),
  title: z.string().nullable().default(null),
  clauseCount: z.number().int().nonnegative().nullable().default(null),
  statementCount: z.number().int().nonnegative().nullable().default(null),
  error: z.string().nullable().default(null).describe('Why a rejected document could not be framed'),
  receivedAt: IsoTime,
  uploadEventId: Id,
});
export type PolicyDocument = z.infer<typeof PolicyDocument>;

export const POLICY_DOCUMENTS: EntitySpec<PolicyDocument> = {
  collection: 'documents',
  schema: PolicyDocument,
  indexes: [{ fields: { contextId: 1, receivedAt: -1 } }],
};

/** The document an upload event describes. Deterministic: redelivery rewrites the same record. */
export function documentFromUpload(event: CloudEvent<DocumentUploadedV1>): PolicyDocument {
  const d = event.data;
  return {
    id: d.documentId,
    contextId: d.contextId,
    filename: d.filename,
    mediaType: d.mediaType,
    sha256: d.sha256,
    sizeBytes: d.sizeBytes,
    storageUri: d.storageUri,
    status: 'received',
    title: null,
    clauseCount: null,
    statementCount: null,
    error: null,
    receivedAt: event.time,
    uploadEventId: event.id,
  };
}

/** What the HTTP API shows: everything but the (possibly large) storage URI. */
export type PolicyDocumentView = Omit<PolicyDocument, 'storageUri'>;
export function documentView({ storageUri: _storageUri, ...view }: PolicyDocument): PolicyDocumentView {
  return view;
}
