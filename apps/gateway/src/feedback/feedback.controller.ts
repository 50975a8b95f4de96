import {
  BadGatewayException,
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ContextId, describeError, FEEDBACK_PREFERENCE_SUBMITTED_V1 } from '@studio/contracts';
import { ContextValues } from '@studio/framing';
import { EVENT_BUS, ZodValidationPipe } from '@studio/nest';
import type { EventBus } from '@studio/ports';
import { AuditLog } from '../auth/audit-log';
import { Caller, Requires, type Principal } from '../auth/principal';
import { PUBLISH_RETRY_AFTER_SECONDS, publishWithin } from '../documents/documents.controller';
import { ProblemDetails } from '../http/problem-details';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient } from '../upstream/service-client';
import { feedbackSubmittedEvent, FeedbackContextError, preferenceFromFeedback } from './feedback';
import { FeedbackAnswer, FeedbackRequest, type FeedbackBody } from './feedback-schemas';

export const FEEDBACK_SETTINGS = Symbol('FEEDBACK_SETTINGS');
export interface FeedbackSettings {
  /** How long a submission waits for the event bus to acknowledge its event (PUBLISH_TIMEOUT_MS). */
  publishTimeoutMs: number;
}

/** Audit-log action of a submitted judgement. */
export const PREFERENCE_SUBMITTED = 'preference.submitted';

/** The values file of a context, as the framer (which owns contexts) answers it; 404 for another tenant's context. */
export async function contextValues(upstream: ServiceClient, tenant: string, contextId: string): Promise<ContextValues | null> {
  const answer = await upstream.forward('framer', { method: 'GET', path: `/v1/contexts/${encodeURIComponent(contextId)}`, tenant });
  const values = (answer.body as { values?: unknown } | null)?.values ?? null;
  if (values === null) return null;
  const parsed = ContextValues.safeParse(values);
  if (!parsed.success)
    throw new BadGatewayException({
      message: `the framer answered context "${contextId}" with a values file that is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      service: 'framer',
    });
  return parsed.data;
}

/** Human feedback: a person's judgement of two answers becomes a preference, published for the reward-model service to store. */
@ApiTags('feedback and preferences')
@ApiBearerAuth()
@Controller('v1/contexts/:contextId/feedback')
export class FeedbackController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(AuditLog) private readonly auditLog: AuditLog,
    @Inject(FEEDBACK_SETTINGS) private readonly settings: FeedbackSettings,
  ) {}

  @Post()
  @Requires('feedback:submit')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Judge two answers: pick the better one, or edit it into the chosen answer',
    description: `Makes a preference (source \`human\`): \`chosen\` is the picked answer (or \`editedChosen\`, then \`edited: true\`), \`rejected\` the other one; the annotator is the caller (\`key:<keyId>\` or \`oidc:<sub>\`, from the credential), the values named must be values of the context's values file. Publishes \`${FEEDBACK_PREFERENCE_SUBMITTED_V1}\`; the reward-model service stores it (GET …/preferences/{preferenceId} then shows it) and the next preference dataset version weighs it. The preference id is deterministic: the same judgement by the same caller is one preference. Recorded in the audit log (\`${PREFERENCE_SUBMITTED}\`).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(FeedbackRequest) })
  @ApiAcceptedResponse({ description: 'The preference was published', schema: openApi(FeedbackAnswer) })
  @ApiBadRequestResponse({
    description:
      'An invalid judgement, naming each problem: the same answer twice, an empty or unchanged edit, a value the context does not have',
    schema: openApi(ProblemDetails),
  })
  @ApiForbiddenResponse({ description: 'The caller may not submit feedback (feedback:submit)' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant' })
  @ApiServiceUnavailableResponse({
    description: 'The event broker did not take the event in time: nothing is confirmed; retry (the same judgement keeps its id)',
    schema: openApi(ProblemDetails),
  })
  async submit(
    @Caller() caller: Principal,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(FeedbackRequest)) body: FeedbackBody,
  ): Promise<{ preferenceId: string }> {
    const values = await contextValues(this.upstream, caller.tenant, contextId);
    let preference;
    try {
      preference = preferenceFromFeedback(body, { contextId, annotator: caller.subject, values });
    } catch (error) {
      if (error instanceof FeedbackContextError) throw new BadRequestException({ message: error.message, ...error.details });
      throw error;
    }
    try {
      await publishWithin(
        this.bus,
        FEEDBACK_PREFERENCE_SUBMITTED_V1,
        feedbackSubmittedEvent(caller.tenant, preference),
        this.settings.publishTimeoutMs,
      );
    } catch (error) {
      throw new ServiceUnavailableException({
        message: `could not publish ${FEEDBACK_PREFERENCE_SUBMITTED_V1}: ${describeError(error)}; the judgement is not confirmed: submit it again (it keeps its id)`,
        topic: FEEDBACK_PREFERENCE_SUBMITTED_V1,
        retryAfterSeconds: PUBLISH_RETRY_AFTER_SECONDS,
      });
    }
    await this.auditLog.record({
      actor: caller,
      action: PREFERENCE_SUBMITTED,
      target: `preference:${preference.id}`,
      before: null,
      after: {
        contextId,
        preferenceId: preference.id,
        values: preference.values,
        edited: preference.edited,
        origin: preference.origin,
      },
    });
    return { preferenceId: preference.id };
  }
}
