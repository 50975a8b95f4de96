import { BadRequestException, ForbiddenException, HttpException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { openAiErrorFor, OpenAiHttpError } from './openai-errors';

describe('OpenAI-shaped errors', () => {
  it('keeps the status and the words, with the type and code the OpenAI clients expect', () => {
    expect(openAiErrorFor(new UnauthorizedException('no credential: send Authorization: Bearer <key>'))).toEqual({
      status: 401,
      body: {
        error: {
          message: 'no credential: send Authorization: Bearer <key>',
          type: 'authentication_error',
          code: 'invalid_api_key',
          param: null,
        },
      },
    });
    expect(openAiErrorFor(new ForbiddenException('the role viewer lacks models:query')).body.error).toMatchObject({
      type: 'permission_error',
      message: 'the role viewer lacks models:query',
    });
    expect(openAiErrorFor(new OpenAiHttpError(404, "The model 'x' does not exist", 'model_not_found'))).toEqual({
      status: 404,
      body: { error: { message: "The model 'x' does not exist", type: 'invalid_request_error', code: 'model_not_found', param: null } },
    });
  });

  it('names the first invalid field as param, and keeps Retry-After of a rate limit or an unreachable service', () => {
    const invalid = new BadRequestException({
      message: 'request body is invalid: messages: must hold at least one message',
      issues: [{ path: 'messages', message: 'must hold at least one message' }],
    });
    expect(openAiErrorFor(invalid).body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages', code: null });
    const limited = openAiErrorFor(new HttpException({ message: 'rate limit of chat: 60 per minute', retryAfterSeconds: 12 }, 429));
    expect(limited).toMatchObject({
      status: 429,
      retryAfterSeconds: 12,
      body: { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
    });
    const down = openAiErrorFor(new ServiceUnavailableException({ message: 'the model server is unreachable', retryAfterSeconds: 5 }));
    expect(down).toMatchObject({ status: 503, retryAfterSeconds: 5, body: { error: { type: 'api_error', code: 'server_error' } } });
  });

  it('answers 500 without the details of an unexpected error', () => {
    expect(openAiErrorFor(new Error('secret path /etc/x'))).toEqual({
      status: 500,
      body: {
        error: {
          message: 'internal error: the gateway could not answer this request',
          type: 'api_error',
          code: 'server_error',
          param: null,
        },
      },
    });
  });
});
