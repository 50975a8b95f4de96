import type { z } from 'zod';
import { AUDIT_RUN_COMPLETED_V1, AuditRunCompletedV1 } from './events/audit/audit-run-completed';
import { AUDIT_DRIFT_DETECTED_V1, AuditDriftDetectedV1 } from './events/audit/drift-detected';
import { AUDIT_VERDICT_ISSUED_V1, AuditVerdictIssuedV1 } from './events/audit/audit-verdict-issued';
import { CHAT_CONVERSATION_SAMPLED_V1, ChatConversationSampledV1 } from './events/chat/conversation-sampled';
import { DATASET_VERSION_PUBLISHED_V1, DatasetVersionPublishedV1 } from './events/dataset/dataset-version-published';
import { CLAUSES_INDEXED_V1, ClausesIndexedV1 } from './events/ontology/clauses-indexed';
import { GRAPH_UPDATED_V1, GraphUpdatedV1 } from './events/ontology/graph-updated';
import { FEEDBACK_PREFERENCE_SUBMITTED_V1, FeedbackPreferenceSubmittedV1 } from './events/feedback/preference-submitted';
import { DOCUMENT_FRAMED_V1, DocumentFramedV1 } from './events/policy/document-framed';
import { DOCUMENT_REVISED_V1, DocumentRevisedV1 } from './events/policy/document-revised';
import { DOCUMENT_UPLOADED_V1, DocumentUploadedV1 } from './events/policy/document-uploaded';
import { PREFERENCE_DATASET_PUBLISHED_V1, PreferenceDatasetPublishedV1 } from './events/preference/dataset-published';
import { TRAINING_RUN_CANCELLED_V1, TrainingRunCancelledV1 } from './events/training/run-cancelled';
import { TRAINING_RUN_COMPLETED_V1, TrainingRunCompletedV1 } from './events/training/run-completed';
import { TRAINING_RUN_FAILED_V1, TrainingRunFailedV1 } from './events/training/run-failed';
import { TRAINING_RUN_PROGRESS_V1, TrainingRunProgressV1 } from './events/training/run-progress';
import { TRAINING_RUN_REQUESTED_V1, TrainingRunRequestedV1 } from './events/training/run-requested';

/**
 * The one registry of event topics: `<domain>.<entity>.<event>.v<N>` → data schema.
 * A breaking change is a new topic (`…v2`) beside the old one, never an edit in place.
 */
export const TOPICS = {
  [DOCUMENT_UPLOADED_V1]: DocumentUploadedV1,
  [DOCUMENT_FRAMED_V1]: DocumentFramedV1,
  [DOCUMENT_REVISED_V1]: DocumentRevisedV1,
  [CLAUSES_INDEXED_V1]: ClausesIndexedV1,
  [GRAPH_UPDATED_V1]: GraphUpdatedV1,
  [DATASET_VERSION_PUBLISHED_V1]: DatasetVersionPublishedV1,
  [TRAINING_RUN_REQUESTED_V1]: TrainingRunRequestedV1,
  [TRAINING_RUN_PROGRESS_V1]: TrainingRunProgressV1,
  [TRAINING_RUN_COMPLETED_V1]: TrainingRunCompletedV1,
  [TRAINING_RUN_FAILED_V1]: TrainingRunFailedV1,
  [TRAINING_RUN_CANCELLED_V1]: TrainingRunCancelledV1,
  [AUDIT_RUN_COMPLETED_V1]: AuditRunCompletedV1,
  [AUDIT_VERDICT_ISSUED_V1]: AuditVerdictIssuedV1,
  [FEEDBACK_PREFERENCE_SUBMITTED_V1]: FeedbackPreferenceSubmittedV1,
  [PREFERENCE_DATASET_PUBLISHED_V1]: PreferenceDatasetPublishedV1,
  [CHAT_CONVERSATION_SAMPLED_V1]: ChatConversationSampledV1,
  [AUDIT_DRIFT_DETECTED_V1]: AuditDriftDetectedV1,
} as const;

export type Topic = keyof typeof TOPICS;
export type EventData<T extends Topic> = z.infer<(typeof TOPICS)[T]>;
export const TOPIC_NAMES = Object.keys(TOPICS) as Topic[];

export const TOPIC_PATTERN = /^[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*\.v[1-9][0-9]*$/;

export function isTopic(name: string): name is Topic {
  return Object.prototype.hasOwnProperty.call(TOPICS, name);
}
