import {
  buildCloudEvent,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  Preference,
  type CloudEvent,
  type FeedbackPreferenceSubmittedV1,
} from '@studio/contracts';
import type { ContextValues } from '@studio/framing';
import { preferenceId, type PreferenceInput } from '@studio/preferences';
import type { FeedbackBody } from './feedback-schemas';

export const FEEDBACK_EVENT_SOURCE = '/studio/gateway';

/** A judgement that is well formed but does not fit its context (answered 400, naming the problem). */
export class FeedbackContextError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'FeedbackContextError';
  }
}

/**
 * Checks that every value a judgement names is a value of its context's values file: the values
 * are what the priority aggregation weighs, so a name it does not know would weigh nothing.
 */
export function checkValues(named: readonly string[], values: ContextValues | null, contextId: string): void {
  if (named.length === 0) return;
  if (!values)
    throw new FeedbackContextError(
      `context "${contextId}" has no values file, so it has no values to tag: leave values out, or give the context a values file`,
      { unknownValues: [...named], knownValues: [] },
    );
  const known = values.values.map((v) => v.name);
  const unknown = named.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new FeedbackContextError(
      `${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is not a value' : 'are not values'} of context "${contextId}" (its values: ${known.join(', ')})`,
      { unknownValues: unknown, knownValues: known },
    );
}

/**
 * The preference a person's judgement makes: the chosen answer is the one picked (or its edit),
 * the rejected one the other; the annotator is the caller's subject from its credential (never
 * from the body); values in the context's priority order.
 */
export function preferenceFromFeedback(
  body: FeedbackBody,
  context: { contextId: string; annotator: string; values: ContextValues | null },
  now: Date = new Date(),
): Preference {
  checkValues(body.values, context.values, context.contextId);
  const priority = new Map((context.values?.values ?? []).map((v) => [v.name, v.priority]));
  const values = [...body.values].sort((a, b) => (priority.get(a) ?? 0) - (priority.get(b) ?? 0));
  const rejectedIndex = body.choice === 0 ? 1 : 0;
  const explanation = body.explanation?.trim() ? body.explanation.trim() : null;
  const input: PreferenceInput = {
    contextId: context.contextId,
    prompt: body.prompt,
    systemPrompt: body.systemPrompt,
    retrievedClauseIds: body.retrievedClauseIds,
    clauseIds: body.clauseIds,
    chosen: body.editedChosen ?? body.answers[body.choice],
    rejected: body.answers[rejectedIndex],
    source: 'human',
    rejectedKind: null,
    values,
    annotator: context.annotator,
    explanation,
    edited: body.editedChosen !== undefined,
    origin: {
      datasetVersionId: body.origin?.datasetVersionId ?? null,
      exampleId: body.origin?.exampleId ?? null,
      auditId: null,
      runId: body.origin?.runId ?? null,
    },
  };
  return Preference.parse({ id: preferenceId(input), ...input, createdAt: now.toISOString() });
}

/** The `feedback.preference.submitted.v1` event of a preference, in the caller's tenant. */
export function feedbackSubmittedEvent(tenant: string, preference: Preference): CloudEvent<FeedbackPreferenceSubmittedV1> {
  return buildCloudEvent<FeedbackPreferenceSubmittedV1>({
    topic: FEEDBACK_PREFERENCE_SUBMITTED_V1,
    source: FEEDBACK_EVENT_SOURCE,
    tenantId: tenant,
    contextId: preference.contextId,
    subject: preference.id,
    data: { version: 'v1', contextId: preference.contextId, preference },
  });
}
