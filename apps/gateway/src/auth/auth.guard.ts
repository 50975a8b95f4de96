import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Optional,
  HttpException,
  ServiceUnavailableException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describeError } from '@studio/contracts';
import { HealthController } from '@studio/nest';
import { phaseTimings } from '../http/server-timing';
import { AccessError } from './access-errors';
import { ApiKeyService } from './api-key.service';
import { BEARER_TOKEN_VERIFIER, looksLikeJwt, type BearerTokenVerifier } from './bearer-verifier';
import { can, type Permission } from './permissions';
import { AUTHENTICATED_ROUTE, PUBLIC_ROUTE, REQUIRED_PERMISSION, type AuthenticatedRequest, type Principal } from './principal';
import {
  RATE_COUNTER,
  RATE_COUNT_TIMEOUT_MS,
  RATE_LIMIT_BUCKET,
  RATE_LIMITS,
  RATE_WINDOW_MS,
  withinMs,
  type RateCounter,
  type RateDecision,
  type RateHit,
  type RateLimitBucket,
  type RateLimits,
} from './rate-limit';

/** What a route declares about its callers. */
export type RouteAccess =
  { kind: 'public' } | { kind: 'authenticated' } | { kind: 'permission'; permission: Permission } | { kind: 'undeclared' };

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Target = Function;

/** The access a handler of a controller declares (the handler's metadata first, then its class's). */
export function routeAccess(reflector: Reflector, targets: [Target, Target]): RouteAccess {
  if (targets[1] === HealthController) return { kind: 'public' };
  if (reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return { kind: 'public' };
  const permission = reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
  if (permission) return { kind: 'permission', permission };
  if (reflector.getAllAndOverride<boolean>(AUTHENTICATED_ROUTE, targets)) return { kind: 'authenticated' };
  return { kind: 'undeclared' };
}

interface GuardedResponse {
  setHeader(name: string, value: string): unknown;
}

type GuardedRequest = AuthenticatedRequest & { method?: string; url?: string };

/** The credential of `Authorization: Bearer <credential>`, or null when the header is absent. */
function bearerCredential(request: GuardedRequest): string | null {
  const header = request.headers['authorization'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  if (!match?.[1]) throw AccessError.invalidCredential('the Authorization header must be "Bearer <credential>"');
  return match[1];
}

/**
 * The gateway's global guard. Every route but `@Public()` ones and /health, /ready needs
 * `Authorization: Bearer <credential>`: an API key (`sk-studio-<id>_<secret>`, cached per replica
 * and checked against its tenant's key generation on every request, see ApiKeyService) or, when OIDC is configured, a JWT checked by the BearerTokenVerifier. The caller's
 * tenant and role come from the credential alone (request.principal); `x-tenant-id` from a
 * client is never read. Then the route's `@Requires(permission)` is checked against the role
 * (403 naming both), then its `@RateLimit(bucket)` against the tenant's window (429 with
 * Retry-After). Refusals are AccessErrors; their headers are set here, so any exception filter
 * only renders the body.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** What each handler of each controller declares (fixed once the app is built): read once, not per request. */
  private readonly declared = new WeakMap<Target, WeakMap<Target, { access: RouteAccess; bucket: RateLimitBucket | undefined }>>();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
    @Inject(RATE_LIMITS) private readonly limits: RateLimits,
    @Inject(RATE_COUNTER) private readonly counter: RateCounter,
    @Optional() @Inject(BEARER_TOKEN_VERIFIER) private readonly verifier: BearerTokenVerifier | null = null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    const response = http.getResponse<GuardedResponse>();
    try {
      const { access, bucket } = this.declaredBy(context.getHandler(), context.getClass());
      if (access.kind === 'public') return true;
      if (access.kind === 'undeclared')
        throw new InternalServerErrorException(
          `the route ${request.method ?? ''} ${request.url ?? ''} declares no access (@Requires, @Authenticated or @Public)`,
        );
      const timings = phaseTimings(request);
      const permit = (role: Principal['role']) => {
        if (access.kind === 'permission' && !can(role, access.permission)) throw AccessError.permissionDenied(role, access.permission);
      };
      const { principal, rate } = await this.authenticate(request, permit, bucket);
      // A cached API key's check and the rate-limit count are one round trip: timed as auth.
      timings.lap('auth');
      request.principal = principal;
      permit(principal.role);
      if (rate) this.enforce(bucket, rate);
      else if (bucket) {
        await this.count(bucket, principal);
        timings.lap('ratelimit');
      }
      return true;
    } catch (error) {
      if (error instanceof AccessError) for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
      throw error;
    }
  }

  private declaredBy(handler: Target, controller: Target): { access: RouteAccess; bucket: RateLimitBucket | undefined } {
    let handlers = this.declared.get(controller);
    if (!handlers) {
      handlers = new WeakMap();
      this.declared.set(controller, handlers);
    }
    let declared = handlers.get(handler);
    if (!declared) {
      const targets: [Target, Target] = [handler, controller];
      declared = {
        access: routeAccess(this.reflector, targets),
        bucket: this.reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET, targets),
      };
      handlers.set(handler, declared);
    }
    return declared;
  }

  /** The rate-limit count of `bucket` for the tenant, or null when the bucket's limit is off. */
  private hitOf(bucket: RateLimitBucket | undefined, tenant: string): RateHit | null {
    if (!bucket) return null;
    const limit = this.limits[bucket];
    return limit > 0 ? { key: `${bucket}:${tenant}`, limit, windowMs: RATE_WINDOW_MS } : null;
  }

  private enforce(bucket: RateLimitBucket | undefined, decision: RateDecision): void {
    if (bucket && !decision.allowed) throw AccessError.rateLimited(bucket, this.limits[bucket], decision.retryAfterSeconds);
  }

  /**
   * The caller, and the rate-limit decision when the request was already counted (a cached API
   * key: its generation check carries the count).
   */
  private async authenticate(
    request: GuardedRequest,
    permit: (role: Principal['role']) => void,
    bucket: RateLimitBucket | undefined,
  ): Promise<{ principal: Principal; rate: RateDecision | null }> {
    const credential = bearerCredential(request);
    if (credential === null)
      throw AccessError.missingCredential(
        'no credential: send "Authorization: Bearer <credential>" with an API key (sk-studio-...) or an OIDC access token',
      );
    const byKey = await this.keys.admit(credential, {
      permit,
      // The tenant is known only from the key: the hit's key is completed by the service.
      hitFor: (tenant) => this.hitOf(bucket, tenant),
    });
    if (byKey) return byKey;
    if (!looksLikeJwt(credential))
      throw AccessError.invalidCredential('the bearer credential is neither an API key (sk-studio-...) nor a JWT');
    if (!this.verifier)
      throw AccessError.invalidCredential('bearer tokens are not accepted here: no OIDC issuer is configured; use an API key');
    try {
      return { principal: await this.verifier.verify(credential), rate: null };
    } catch (error) {
      if (error instanceof HttpException) throw error;
      throw AccessError.invalidCredential(`the bearer token is not valid: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async count(bucket: RateLimitBucket, principal: Principal): Promise<void> {
    const limit = this.limits[bucket];
    if (limit <= 0) return;
    let decision: RateDecision;
    try {
      decision = await withinMs(this.counter.hit(`${bucket}:${principal.tenant}`, limit, RATE_WINDOW_MS), RATE_COUNT_TIMEOUT_MS);
    } catch (error) {
      // An expensive request is not let through uncounted: 503, retry.
      throw new ServiceUnavailableException({
        message: `cannot count this request against the tenant's ${bucket} limit: the rate-limit store does not answer (${describeError(error)}); retry`,
        retryAfterSeconds: 5,
      });
    }
    if (!decision.allowed) throw AccessError.rateLimited(bucket, limit, decision.retryAfterSeconds);
  }
}
