import { Body, Controller, Get, Inject, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ContextId } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { Caller, CallerTenant, Requires, type Principal } from '../auth/principal';
import { ProblemDetails } from '../http/problem-details';
import { openApi } from '../upstream/api-schemas';
import type { HttpResponse } from '../upstream/service-client';
import { DeployRequest, ListLimit, type ConversationRecord, type CurrentDeployment, type DeploymentRecord } from './chat-schemas';
import { ChatService } from './chat.service';
import { Deployments } from './deployments';

const contextIdPipe = new ZodValidationPipe(ContextId, 'path parameter contextId');

/** A context's deployed model: deploy an audited adapter, read the current deployment and the history, and the sampled conversations. */
@ApiTags('deployments')
@Controller('v1/contexts/:contextId')
export class DeploymentsController {
  constructor(
    @Inject(Deployments) private readonly deployments: Deployments,
    @Inject(ChatService) private readonly chat: ChatService,
  ) {}

  @Post('deployments')
  @Requires('deployments:write')
  @ApiOperation({
    summary: "Deploy a run's adapter as the context's model",
    description:
      'The run must have completed with an adapter, and its audit must have issued a PASS verdict that is not stale; otherwise 409 naming the verdict, unless the caller holds deployments:override (admins) and gives `override.reason`. The adapter is loaded into the model server, the deployment becomes current (the model `contextId` of /v1/chat/completions) and is written to the audit log with the previous one as `before`. Deploying the current run again answers 200 with it.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(DeployRequest) })
  @ApiCreatedResponse({ description: 'The deployment, now current' })
  @ApiConflictResponse({ description: 'The run has not completed, or its audit did not pass', schema: openApi(ProblemDetails) })
  async deploy(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe) contextId: string,
    @Body(new ZodValidationPipe(DeployRequest)) body: DeployRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<CurrentDeployment> {
    const { created, deployment } = await this.deployments.deploy(caller, contextId, body);
    res.status(created ? 201 : 200);
    return deployment;
  }

  @Get('deployment')
  @Requires('studio:read')
  @ApiOperation({ summary: "The context's current deployment" })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The current deployment' })
  async current(@CallerTenant() tenant: string, @Param('contextId', contextIdPipe) contextId: string): Promise<CurrentDeployment> {
    const deployment = await this.deployments.currentOf(tenant, contextId);
    if (!deployment) throw new NotFoundException(`context "${contextId}" has no deployed model`);
    return deployment;
  }

  @Get('deployments')
  @Requires('studio:read')
  @ApiOperation({ summary: "The context's deployments, newest first" })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500 (default 50)' })
  async history(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe) contextId: string,
    @Query('limit', new ZodValidationPipe(ListLimit, 'query parameter limit')) limit: number,
  ): Promise<{ deployments: DeploymentRecord[] }> {
    return { deployments: await this.deployments.historyOf(tenant, contextId, limit) };
  }

  @Get('conversations')
  @Requires('runs:operate')
  @ApiOperation({
    summary: 'Sampled conversations with the deployed model, newest first',
    description:
      'The share CHAT_SAMPLE_RATE of chat completions, stored for post-deployment audits: the caller’s messages, the answer, its citations, the deployment.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500 (default 50)' })
  async conversations(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe) contextId: string,
    @Query('limit', new ZodValidationPipe(ListLimit, 'query parameter limit')) limit: number,
  ): Promise<{ conversations: ConversationRecord[] }> {
    return { conversations: await this.chat.conversationsOf(tenant, contextId, limit) };
  }
}
