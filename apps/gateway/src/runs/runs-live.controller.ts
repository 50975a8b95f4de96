import { Controller, Get, HttpCode, Inject, Logger, Param, Post, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  ContextId,
  describeError,
  Id,
  TRAINING_RUN_CANCELLED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
} from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { Caller, CallerTenant, Requires, type Principal } from '../auth/principal';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';
import { ProblemDetails } from '../http/problem-details';
import { send } from './runs.controller';
import { RunEventHub } from './run-event-hub';
import { formatSse, RunSnapshot, RunStreamState, SSE_HEARTBEAT, type RunStreamMessage } from './run-stream';

export const RUN_EVENTS_SETTINGS = Symbol('RUN_EVENTS_SETTINGS');
export interface RunEventsSettings {
  heartbeatMs: number;
  resyncMs: number;
}

/** The parts of Node's response a live stream uses ('close': the client went away, or the stream ended). */
interface StreamResponse {
  on(event: 'close', listener: () => void): unknown;
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(): void;
  readonly writableEnded: boolean;
}

/** A context's runs, cancelling a run, and a run's live progress. */
@ApiTags('training and audits')
@Controller('v1')
export class RunsLiveController {
  private readonly logger = new Logger(RunsLiveController.name);

  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    private readonly hub: RunEventHub,
    @Inject(RUN_EVENTS_SETTINGS) private readonly settings: RunEventsSettings,
  ) {}

  @Get('contexts/:contextId/runs')
  @Requires('studio:read')
  @ApiOperation({
    summary: "A context's training runs",
    description: 'Newest first (at most 200): `{ runs: [...] }`, each run with its state, step of total steps and loss curve.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The runs' })
  async list(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('instructor', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/runs`,
        tenant,
      }),
    );
  }

  @Post('runs/:runId/cancel')
  @HttpCode(200)
  @Requires('runs:operate')
  @ApiOperation({
    summary: 'Cancel a training run',
    description: `Stops a requested or running run: a queued job is removed, a running one's training worker stops. The run is marked cancelled (never completed afterwards) and \`${TRAINING_RUN_CANCELLED_V1}\` is published. 200 with the cancelled run; 409 when the run has already completed, failed or been cancelled. No request body.`,
  })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({ description: 'The cancelled run' })
  @ApiNotFoundResponse({ description: 'No such run for this tenant', schema: openApi(ProblemDetails) })
  @ApiConflictResponse({ description: 'The run has already finished', schema: openApi(ProblemDetails) })
  async cancel(
    @Caller() caller: Principal,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('instructor', {
        method: 'POST',
        path: `/v1/runs/${encodeURIComponent(runId)}/cancel`,
        tenant: caller.tenant,
        body: { by: caller.subject },
      }),
    );
  }

  @Get('runs/:runId/events')
  @Requires('studio:read')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: "A training run's live progress (server-sent events)",
    description:
      'A `text/event-stream`. Every message has `event:`, `id:` and one `data:` line of JSON. The first is `state`: the run as GET /v1/runs/{runId} gives it (state, step, totalSteps, lossCurve, adapter...). Then, as training goes: ' +
      `\`progress\` (${TRAINING_RUN_PROGRESS_V1}: phase started|step|eval|checkpoint|checkpoint_eval, step, totalSteps, loss, evalLoss, learningRate, tokensPerS, etaS, and for checkpoint_eval the held-out scores in checkpointEval), and at the end one of \`completed\` (${TRAINING_RUN_COMPLETED_V1}: adapterId, metrics...), \`failed\` (${TRAINING_RUN_FAILED_V1}: error, attempts) or \`cancelled\` (${TRAINING_RUN_CANCELLED_V1}: step, cancelledBy, cancelledAt), after which the server closes the stream. ` +
      'A run that has already finished gets its `state` and the stream closes. Another `state` may come at any time (the run re-read, when an event was missed): it replaces what the client has. Comment lines (`: heartbeat`) keep the connection open. A run of another tenant is 404.',
  })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({ description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiNotFoundResponse({ description: 'No such run for this tenant', schema: openApi(ProblemDetails) })
  async events(
    @CallerTenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res() res: StreamResponse,
  ): Promise<void> {
    const stream = new RunStreamState(runId);
    let open = false;
    const timers: NodeJS.Timeout[] = [];
    const write = (messages: RunStreamMessage[]): void => {
      if (!open || res.writableEnded) return;
      for (const message of messages) res.write(formatSse(message));
      if (stream.ended) close();
    };
    // Follow first, then read the state: an event that arrives in between is held, not lost.
    const unfollow = this.hub.follow(tenant, runId, (event) => write(stream.event(event)));
    const close = (): void => {
      unfollow();
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
      if (open && !res.writableEnded) res.end();
      open = false;
    };
    let first: RunSnapshot;
    try {
      first = await this.readRun(tenant, runId);
    } catch (error) {
      unfollow();
      // 404 (another tenant's run, or none), 502/503: answered as problem JSON before any event.
      throw error;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies: pass events through as they come.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    open = true;
    res.on('close', close);
    write(stream.state(first));
    if (!open) return;
    timers.push(
      setInterval(() => {
        if (open && !res.writableEnded) res.write(SSE_HEARTBEAT);
      }, this.settings.heartbeatMs),
      setInterval(() => {
        this.readRun(tenant, runId).then(
          (run) => write(stream.state(run)),
          (error: unknown) => this.logger.warn({ msg: 'could not re-read a followed run', runId, error: describeError(error) }),
        );
      }, this.settings.resyncMs),
    );
  }

  private async readRun(tenant: string, runId: string): Promise<RunSnapshot> {
    const answer = await this.upstream.forward('instructor', {
      method: 'GET',
      path: `/v1/runs/${encodeURIComponent(runId)}`,
      tenant,
    });
    const parsed = RunSnapshot.safeParse(answer.body);
    if (!parsed.success) throw new Error(`the instructor's run ${runId} is not in the expected shape: ${parsed.error.message}`);
    return parsed.data;
  }
}
