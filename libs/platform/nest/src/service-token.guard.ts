import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SERVICE_TOKEN_HEADER } from '@studio/config';

export { SERVICE_TOKEN_HEADER };

/** Paths an orchestrator probes without credentials: liveness and readiness. */
export const SERVICE_TOKEN_EXEMPT_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

interface GuardedRequest {
  method?: string;
  path?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether `given` equals `expected`, in time that does not depend on where they differ (both are
 * hashed first, so their lengths do not show either).
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** `sameSecret` against an expected secret's digest, computed once. */
function matchesDigest(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/**
 * The service credential check of an internal service (installed by createServiceApp for a
 * service whose definition names its `serviceToken`): every HTTP request but GET /health and
 * /ready must carry the deployment's SERVICE_TOKEN in the `x-studio-service-token` header, else
 * 401. Behind it, the `x-tenant-id` header is trusted: only the gateway (which takes the tenant
 * from the caller's credential) and the other services hold the token.
 */
@Injectable()
export class ServiceTokenGuard implements CanActivate {
  /** The token's digest: computed once, not per request. */
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token.length < 32) throw new Error('the service token must be at least 32 characters');
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true; // the event transport has its own (Kafka) credentials
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const path = (request.path ?? (request.url ?? '/').split('?')[0] ?? '/').replace(/\/+$/, '') || '/';
    if (SERVICE_TOKEN_EXEMPT_PATHS.has(path)) return true;
    const header = request.headers[SERVICE_TOKEN_HEADER];
    const given = Array.isArray(header) ? header[0] : header;
    if (given === undefined || given === '')
      throw new UnauthorizedException(`this is an internal service: the ${SERVICE_TOKEN_HEADER} header is required`);
    if (!matchesDigest(given, this.expected))
      throw new UnauthorizedException(`the ${SERVICE_TOKEN_HEADER} header is not this deployment's service token`);
    return true;
  }
}
