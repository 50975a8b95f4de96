import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  PayloadTooLargeException,
  Post,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiUnprocessableEntityResponse,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger';
import { ContextId, DOCUMENT_UPLOADED_V1 } from '@studio/contracts';
import { EVENT_BUS, Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId, type EventBus } from '@studio/ports';
import { z } from 'zod';
import { GATEWAY_LIMITS, type GatewayLimits } from '../limits';
import {
  DocumentRejectedError,
  documentUploadedEvent,
  DocumentTooLargeError,
  UploadDocumentRequest,
  UploadDocumentResponse,
} from './upload-document';

const openApi = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0' }) as SchemaObject;

@ApiTags('documents')
@Controller('v1/contexts/:contextId/documents')
export class DocumentsController {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(GATEWAY_LIMITS) private readonly limits: GatewayLimits,
  ) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Upload a policy document to a context',
    description: `Validates the document (size, UTF-8 text, not binary, headings or numbered clauses the framer can frame) and publishes \`${DOCUMENT_UPLOADED_V1}\`; the framer picks it up from there.`,
  })
  @ApiHeader({ name: 'x-tenant-id', required: true, description: 'Tenant that owns the context' })
  @ApiParam({ name: 'contextId', description: 'Alignment context (one rule set)' })
  @ApiBody({ schema: openApi(UploadDocumentRequest) })
  @ApiAcceptedResponse({ description: 'The document was accepted and its event published', schema: openApi(UploadDocumentResponse) })
  @ApiBadRequestResponse({ description: 'Missing or invalid tenant, context id or body; the message names each problem' })
  @ApiPayloadTooLargeResponse({ description: 'The document exceeds MAX_DOCUMENT_BYTES' })
  @ApiUnprocessableEntityResponse({
    description: 'The document is binary, not valid UTF-8, or has no clause structure; `problem` names which. Nothing is published.',
  })
  @ApiServiceUnavailableResponse({ description: 'The event could not be published' })
  async upload(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(UploadDocumentRequest)) body: UploadDocumentRequest,
  ): Promise<UploadDocumentResponse> {
    let event;
    try {
      event = documentUploadedEvent(tenantId(tenant), contextId, body, this.limits.maxDocumentBytes);
    } catch (err) {
      if (err instanceof DocumentTooLargeError) throw new PayloadTooLargeException(err.message);
      if (err instanceof DocumentRejectedError) {
        const body = { message: err.message, problem: err.problem };
        throw err.problem === 'empty'
          ? new BadRequestException({ statusCode: 400, error: 'Bad Request', ...body })
          : new UnprocessableEntityException({ statusCode: 422, error: 'Unprocessable Entity', ...body });
      }
      throw err;
    }
    try {
      await this.bus.publish(DOCUMENT_UPLOADED_V1, event);
    } catch (err) {
      throw new ServiceUnavailableException(`could not publish ${DOCUMENT_UPLOADED_V1}: ${(err as Error).message}`);
    }
    return {
      documentId: event.data.documentId,
      eventId: event.id,
      topic: DOCUMENT_UPLOADED_V1,
      sha256: event.data.sha256,
      sizeBytes: event.data.sizeBytes,
    };
  }
}
