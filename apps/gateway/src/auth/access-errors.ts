import { HttpException, HttpStatus } from '@nestjs/common';
import type { Permission, Role } from './permissions';

/**
 * Why the gateway refused a caller. The code is what an OpenAI-shaped error names as `code`
 * (the chat routes), and what a problem body carries as its `code` member (every other route).
 */
export type AccessErrorCode = 'missing_credential' | 'invalid_credential' | 'permission_denied' | 'rate_limit_exceeded';

/** The OpenAI error `type` of each code. */
const OPENAI_TYPE: Record<AccessErrorCode, string> = {
  missing_credential: 'invalid_request_error',
  invalid_credential: 'invalid_request_error',
  permission_denied: 'permission_error',
  rate_limit_exceeded: 'rate_limit_error',
};

/** The OpenAI code of each: the OpenAI API says `invalid_api_key` for a missing or bad key. */
const OPENAI_CODE: Record<AccessErrorCode, string> = {
  missing_credential: 'invalid_api_key',
  invalid_credential: 'invalid_api_key',
  permission_denied: 'permission_denied',
  rate_limit_exceeded: 'rate_limit_exceeded',
};

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string; param: null };
}

/**
 * A refusal by the AuthGuard or the rate limiter: 401 (no credential, or a bad one), 403 (a known
 * caller without the permission), 429 (over the tenant's rate limit). It carries its status, its
 * message, a code, and the headers the answer must have (`WWW-Authenticate: Bearer` on 401,
 * `Retry-After` on 429). The guard sets those headers on the response before throwing, so any
 * exception filter renders the body only: the problem-details filter (RFC 9457) renders it as a
 * problem with `code` (and `permission`, `role`, `retryAfterSeconds` where they apply); the chat
 * routes' filter renders `openAi()`.
 */
export class AccessError extends HttpException {
  constructor(
    status: HttpStatus.UNAUTHORIZED | HttpStatus.FORBIDDEN | HttpStatus.TOO_MANY_REQUESTS,
    readonly code: AccessErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>>,
    extensions: Record<string, unknown> = {},
  ) {
    super({ message, code, ...extensions }, status);
    this.name = 'AccessError';
  }

  /** The same refusal, OpenAI-shaped: `{"error":{"message","type","code","param":null}}`. */
  openAi(): OpenAiErrorBody {
    return { error: { message: this.message, type: OPENAI_TYPE[this.code], code: OPENAI_CODE[this.code], param: null } };
  }

  static missingCredential(message: string): AccessError {
    return new AccessError(HttpStatus.UNAUTHORIZED, 'missing_credential', message, { 'WWW-Authenticate': 'Bearer' });
  }

  static invalidCredential(message: string): AccessError {
    return new AccessError(HttpStatus.UNAUTHORIZED, 'invalid_credential', message, {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }

  static permissionDenied(role: Role, permission: Permission): AccessError {
    return new AccessError(
      HttpStatus.FORBIDDEN,
      'permission_denied',
      `the role ${role} does not have the permission ${permission} that this operation needs`,
      {},
      { permission, role },
    );
  }

  static rateLimited(what: string, limit: number, retryAfterSeconds: number): AccessError {
    return new AccessError(
      HttpStatus.TOO_MANY_REQUESTS,
      'rate_limit_exceeded',
      `rate limit of ${what} exceeded: ${limit} per minute for this tenant; retry after ${retryAfterSeconds} s`,
      { 'Retry-After': String(retryAfterSeconds) },
      { limit, retryAfterSeconds },
    );
  }
}

/** Builds the message of an AccessError's 401/403 for a route's readers (e.g. in the OpenAPI document). */
export const ACCESS_ERROR_MESSAGE = {
  missing: 'no credential: send "Authorization: Bearer <credential>" with an API key (sk-studio-...) or an OIDC access token',
} as const;
