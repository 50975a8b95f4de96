import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  PayloadTooLargeException,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnprocessableEntityException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiUnprocessableEntityResponse,
  ApiBody,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger';
import {
  ContextId,
  describeError,
  DOCUMENT_REVISED_V1,
  DOCUMENT_UPLOADED_V1,
  DocumentDiffV1,
  DocumentVersionsV1,
  Id,
  type CloudEvent,
  type EventData,
  type Topic,
} from '@studio/contracts';
import { EVENT_BUS, ZodValidationPipe } from '@studio/nest';
import { tenantId, type EventBus } from '@studio/ports';
import { isDocumentBody, ProblemDetails } from '../http/problem-details';
import { z } from 'zod';
import { CallerTenant, Requires } from '../auth/principal';
import { RateLimit } from '../auth/rate-limit';
import { GATEWAY_LIMITS, type GatewayLimits } from '../limits';
import { send } from '../runs/runs.controller';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';
import {
  DocumentRejectedError,
  documentUploadedEvent,
  DocumentTooLargeError,
  RawUploadFilename,
  readRawBody,
  UnsupportedDocumentTypeError,
  UploadDocumentRequest,
  UploadDocumentResponse,
  UploadEncodingError,
  UPLOAD_MEDIA_TYPES,
} from './upload-document';

const openApi = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0' }) as SchemaObject;

/** Query of GET …/documents/{documentId}/diff, checked here and forwarded as given (the framer decides what exists). */
export const DiffQueryParams = z
  .object({
    from: z
      .string()
      .regex(/^[1-9][0-9]{0,8}$/, 'must be a version number')
      .optional(),
    to: z
      .string()
      .regex(/^[1-9][0-9]{0,8}$/, 'must be a version number')
      .optional(),
    unchanged: z.enum(['true', 'false']).optional(),
  })
  .strict();
export type DiffQueryParams = z.infer<typeof DiffQueryParams>;

/** What a client is told to wait before retrying an upload the broker did not take. */
export const PUBLISH_RETRY_AFTER_SECONDS = 10;

export class PublishTimeoutError extends Error {
  constructor(
    readonly topic: Topic,
    readonly timeoutMs: number,
  ) {
    super(`the event broker did not acknowledge it within ${timeoutMs} ms`);
    this.name = 'PublishTimeoutError';
  }
}

/**
 * Publishes, or fails with PublishTimeoutError when the bus has not acknowledged within
 * `timeoutMs` (a producer waiting for a broker that is down retries for much longer than a
 * client should wait). A publish given up on may still complete later; consumers skip duplicates.
 */
export async function publishWithin<T extends Topic>(
  bus: EventBus,
  topic: T,
  event: CloudEvent<EventData<T>>,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeoutError(topic, timeoutMs)), timeoutMs);
  });
  const publishing = bus.publish(topic, event);
  publishing.catch(() => undefined); // a late failure after the deadline is not unhandled
  try {
    await Promise.race([publishing, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('documents')
@ApiBearerAuth()
@Controller('v1/contexts/:contextId/documents')
export class DocumentsController {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(GATEWAY_LIMITS) private readonly limits: GatewayLimits,
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
  ) {}

  @Get(':documentId/versions')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'List the versions of a document',
    description:
      'Every upload of the same document (the same file name, or the same declared id, in the context) with other bytes is a new version; the context uses the current one. Newest first, each with its clause changes (added, changed, moved, removed, unchanged) against the version it revised, and rejected uploads with the reason.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'documentId' })
  @ApiOkResponse({ description: 'The versions', schema: openApi(DocumentVersionsV1) })
  @ApiNotFoundResponse({ description: 'No such document in the context' })
  async versions(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('framer', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/documents/${encodeURIComponent(documentId)}/versions`,
        tenant,
      }),
    );
  }

  @Get(':documentId/diff')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Diff two versions of a document, clause by clause',
    description: `Clauses matched first by numbering, then by content for renumbered ones: \`moved\` (renumbered only, same text), \`changed\` (with the word overlap and how it was matched), \`added\`, \`removed\`. By default the current version against the one it revised. When a version is framed, \`${DOCUMENT_REVISED_V1}\` carries the summary, the stale clause ids and the dataset versions (and so the audits) they make stale.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'documentId' })
  @ApiQuery({ name: 'from', required: false, description: 'Old version (default: the one the new version revised)' })
  @ApiQuery({ name: 'to', required: false, description: 'New version (default: the current one)' })
  @ApiQuery({ name: 'unchanged', required: false, description: 'true to list unchanged clauses too' })
  @ApiOkResponse({ description: 'The diff', schema: openApi(DocumentDiffV1) })
  @ApiNotFoundResponse({ description: 'No such document or version, a rejected version, or a first version with nothing before it' })
  async diff(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
    @Query(new ZodValidationPipe(DiffQueryParams, 'query')) query: z.infer<typeof DiffQueryParams>,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('framer', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/documents/${encodeURIComponent(documentId)}/diff`,
        tenant,
        query,
      }),
    );
  }

  @Post()
  @Requires('contexts:write')
  @RateLimit('uploads')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Upload a policy document to a context',
    description: `Validates the document (its format, size, and for Markdown and plain text UTF-8 text that is not binary; HTML, PDF and DOCX are converted to Markdown; then headings or numbered clauses the framer can frame) and publishes \`${DOCUMENT_UPLOADED_V1}\` with the original bytes; the framer picks it up from there. The document comes either in a JSON body (below; PDF and DOCX base64-encoded) or as the body itself, with its own Content-Type (${UPLOAD_MEDIA_TYPES.join(', ')}) and its file name in the \`filename\` query parameter.`,
  })
  @ApiParam({ name: 'contextId', description: 'Alignment context (one rule set)' })
  @ApiBody({ schema: openApi(UploadDocumentRequest) })
  @ApiQuery({ name: 'filename', required: false, description: 'The file name, when the body is the document itself (not JSON)' })
  @ApiAcceptedResponse({ description: 'The document was accepted and its event published', schema: openApi(UploadDocumentResponse) })
  @ApiBadRequestResponse({ description: 'Missing or invalid tenant, context id or body; the message names each problem' })
  @ApiPayloadTooLargeResponse({
    description: 'The document, or the text converted from it, exceeds MAX_DOCUMENT_BYTES (or a PDF its page limit)',
  })
  @ApiUnprocessableEntityResponse({
    description:
      'The document cannot be framed: binary, not valid UTF-8, no clause structure, a malformed or encrypted PDF, a scanned PDF without text, a DOCX that is not a zip or is a zip bomb, an HTML page without text; `problem` names which. Nothing is published.',
  })
  @ApiServiceUnavailableResponse({
    description:
      'The event broker is unavailable or did not acknowledge the event within PUBLISH_TIMEOUT_MS: the upload is not confirmed; retry after Retry-After seconds (the same document keeps its id, so a retry is safe). A problem body.',
    schema: openApi(ProblemDetails),
  })
  @ApiUnsupportedMediaTypeResponse({
    description:
      "The body is neither application/json nor a document type the framer reads, or the document's mediaType is not one (`accepted` lists them)",
    schema: openApi(ProblemDetails),
  })
  async upload(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body() json: unknown,
    @Query('filename') filename: unknown,
    @Req() req: Parameters<typeof readRawBody>[0],
  ): Promise<UploadDocumentResponse> {
    let event;
    try {
      const type = req.headers['content-type'];
      const contentType = (Array.isArray(type) ? type[0] : type) ?? '';
      const body = isDocumentBody(contentType)
        ? {
            filename: new ZodValidationPipe(RawUploadFilename, 'query parameter filename').transform(filename),
            mediaType: contentType,
            content: await readRawBody(req, this.limits.maxDocumentBytes),
          }
        : new ZodValidationPipe(UploadDocumentRequest).transform(json);
      event = await documentUploadedEvent(tenantId(tenant), contextId, body, this.limits.maxDocumentBytes);
    } catch (err) {
      if (err instanceof DocumentTooLargeError) throw new PayloadTooLargeException(err.message);
      if (err instanceof UnsupportedDocumentTypeError) {
        throw new UnsupportedMediaTypeException({ message: err.message, problem: 'unsupported-media-type', accepted: err.accepted });
      }
      if (err instanceof UploadEncodingError) throw new BadRequestException({ message: err.message });
      if (err instanceof DocumentRejectedError) {
        const body = { message: err.message, problem: err.problem };
        throw err.problem === 'empty'
          ? new BadRequestException({ statusCode: 400, error: 'Bad Request', ...body })
          : new UnprocessableEntityException({ statusCode: 422, error: 'Unprocessable Entity', ...body });
      }
      throw err;
    }
    try {
      await publishWithin(this.bus, DOCUMENT_UPLOADED_V1, event, this.limits.publishTimeoutMs);
    } catch (err) {
      // Whatever the bus says (unreachable broker, typed unavailability, no answer in time), the
      // upload is not confirmed: the client retries; the same bytes keep the same document id, so
      // after a publish that completed late the framer takes the retry as the same document.
      throw new ServiceUnavailableException({
        message: `could not publish ${DOCUMENT_UPLOADED_V1}: ${describeError(err)}; the upload is not confirmed: retry it (the same document keeps its id)`,
        topic: DOCUMENT_UPLOADED_V1,
        retryAfterSeconds: PUBLISH_RETRY_AFTER_SECONDS,
      });
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
