import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@studio/nest';
import { Caller, CallerTenant, Requires, type Principal } from '../auth/principal';
import { RateLimit } from '../auth/rate-limit';
import { phaseTimings, type PhaseTimings } from '../http/server-timing';
import { openApi } from '../upstream/api-schemas';
import { ChatCompletionRequest } from './chat-schemas';
import { ChatService, type PreparedChat } from './chat.service';
import { gatewayError } from './model-server';
import { openAiErrorFor, OpenAiErrorFilter } from './openai-errors';

/** What the chat routes write to: Express's response. */
export interface ChatResponse {
  headersSent?: boolean;
  writableEnded?: boolean;
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  flushHeaders?(): void;
  write(chunk: string): boolean;
  end(body?: string): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * The OpenAI-compatible API of the deployed models: `GET /v1/models` and `POST
 * /v1/chat/completions` (also streamed), so the `openai` clients work with `base_url` set to the
 * gateway and an API key of the studio. Errors are OpenAI-shaped.
 */
@ApiTags('chat (OpenAI-compatible)')
@UseFilters(OpenAiErrorFilter)
@Controller('v1')
export class ChatController {
  constructor(@Inject(ChatService) private readonly chat: ChatService) {}

  @Get('models')
  @Requires('models:query')
  @ApiOperation({
    summary: "The tenant's deployed models",
    description: 'One model per context with a deployed adapter; its id is the context id (the `model` of a chat completion).',
  })
  async models(@CallerTenant() tenant: string): Promise<unknown> {
    const deployed = await this.chat.deployedModels(tenant);
    return {
      object: 'list',
      data: deployed.map((d) => ({
        id: d.contextId,
        object: 'model',
        created: Math.floor(Date.parse(d.deployedAt) / 1000),
        owned_by: tenant,
        adapter_id: d.adapterId,
        run_id: d.runId,
        base_model: d.baseModel,
        deployment_id: d.deploymentId,
      })),
    };
  }

  @Post('chat/completions')
  @HttpCode(200)
  @Requires('models:query')
  @RateLimit('chat')
  @ApiOperation({
    summary: 'Chat with a deployed model (OpenAI-compatible)',
    description:
      'The model is a context id (GET /v1/models). The answer is grounded on the context’s current clauses retrieved for the last user message, carries `citations` (clause id, numbering, citation, text, score, whether the model cited it) and §refs inline (a "Sources:" line when the model cited none). `stream: true` answers server-sent events (`chat.completion.chunk`, `data: [DONE]`), the last chunk carrying `citations`. Errors are OpenAI-shaped: {"error": {message, type, code, param}}.',
  })
  @ApiBody({ schema: openApi(ChatCompletionRequest) })
  @ApiOkResponse({ description: 'A chat.completion, or a text/event-stream of chat.completion.chunk' })
  async completions(
    @Caller() caller: Principal,
    @Body(new ZodValidationPipe(ChatCompletionRequest)) body: ChatCompletionRequest,
    @Req() req: object,
    @Res() res: ChatResponse,
  ): Promise<void> {
    // Server-Timing: the guard's auth and ratelimit, then validate (pipes), prompt, lookup,
    // retrieve (retrieve-graph, retrieve-embed, retrieve-search: the ontology's parts of it), model, answer, serialize, total.
    const timings = phaseTimings(req);
    timings.lap('validate');
    const chat = await this.chat.prepare(caller.tenant, body, timings);
    const abort = new AbortController();
    // A client gone before its answer stops the generation; the close after an answer stops nothing.
    res.on('close', () => {
      if (!res.writableEnded) abort.abort(new Error('the client closed the connection'));
    });
    if (body.stream) return this.stream(caller, chat, res, abort.signal, timings);

    const result = await this.chat.modelServer.chat(chat.deployment, chat.request, abort.signal);
    timings.lap('model');
    const answer = this.chat.answer(chat, result.content);
    timings.lap('answer');
    const json = JSON.stringify({
      id: chat.id,
      object: 'chat.completion',
      created: chat.created,
      model: chat.deployment.contextId,
      choices: [
        { index: 0, message: { role: 'assistant', content: answer.text }, finish_reason: result.finishReason ?? 'stop', logprobs: null },
      ],
      usage: result.usage
        ? {
            prompt_tokens: result.usage.promptTokens,
            completion_tokens: result.usage.completionTokens,
            total_tokens: result.usage.promptTokens + result.usage.completionTokens,
          }
        : null,
      citations: answer.citations,
    });
    timings.lap('serialize');
    res.setHeader('Server-Timing', timings.header());
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.status(200);
    res.end(json);
    // After the answer has gone: res.end() flushes the socket on the next tick, so sampling (its
    // validation and record building) waits for setImmediate, adding nothing to the answer's latency.
    setImmediate(() => this.chat.sample(caller, chat, answer, result.finishReason, false));
  }

  private async stream(
    caller: Principal,
    chat: PreparedChat,
    res: ChatResponse,
    signal: AbortSignal,
    timings: PhaseTimings,
  ): Promise<void> {
    // The first chunk is awaited before the headers: a refusal of the model server is a plain error.
    const chunks = await this.chat.modelServer.chatStream(chat.deployment, chat.request, signal);
    timings.lap('first-token');
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    // Headers go before the stream: its timings are those up to the first token (`total` is the time before streaming).
    res.setHeader('Server-Timing', timings.header());
    res.flushHeaders?.();
    const send = (delta: Record<string, unknown>, finishReason: string | null, extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({
          id: chat.id,
          object: 'chat.completion.chunk',
          created: chat.created,
          model: chat.deployment.contextId,
          choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
          ...extra,
        })}\n\n`,
      );
    send({ role: 'assistant', content: '' }, null);
    let text = '';
    let finishReason: string | null = null;
    try {
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        if (next.value.delta) {
          text += next.value.delta;
          send({ content: next.value.delta }, null);
        }
        if (next.value.finishReason) finishReason = next.value.finishReason;
      }
    } catch (error) {
      if (signal.aborted) return;
      // Headers are out: the error is the stream's last event, in the OpenAI shape.
      const { body } = openAiErrorFor(gatewayError(error));
      res.write(`data: ${JSON.stringify(body)}\n\n`);
      res.end();
      return;
    }
    const answer = this.chat.answer(chat, text);
    if (answer.suffix) send({ content: answer.suffix }, null);
    send({}, finishReason ?? 'stop', { citations: answer.citations });
    res.write('data: [DONE]\n\n');
    res.end();
    setImmediate(() => this.chat.sample(caller, chat, answer, finishReason, true));
  }
}
