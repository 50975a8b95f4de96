import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Permission, Role } from './permissions';

/**
 * The authenticated caller of a request, set by the AuthGuard from its credential (never from a
 * header the client sets): the tenant and the role come from the API key record or from the
 * verified OIDC token's claims.
 */
export interface Principal {
  /** Who: `key:<keyId>` for an API key, `oidc:<issuer sub>` for a token. */
  subject: string;
  /** A readable name for logs and the audit log (the key's name, the token's email or name). */
  name: string;
  tenant: string;
  role: Role;
  via: 'api-key' | 'oidc';
  /** The API key's id (api-key only). */
  keyId?: string;
}

/** The request as the guard leaves it. */
export interface AuthenticatedRequest {
  principal?: Principal;
  headers: Record<string, string | string[] | undefined>;
}

export const REQUIRED_PERMISSION = 'studio:required-permission';
export const PUBLIC_ROUTE = 'studio:public-route';
export const AUTHENTICATED_ROUTE = 'studio:authenticated-route';

/**
 * The OpenAPI extension each operation carries with what it needs: `{"permission": "<permission>"}`,
 * `{"authenticated": true}` or `{"public": true}` (for clients, and for the tests that check every
 * route of a running gateway against the permission table).
 */
export const ACCESS_EXTENSION = 'x-studio-access';

/** The permission a route needs (checked against the caller's role by the guard; 403 without it). */
export const Requires = (permission: Permission): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_PERMISSION, permission), ApiExtension(ACCESS_EXTENSION, { permission }));

/**
 * A route any authenticated caller may call, whatever its role (GET /v1/me). A route that declares
 * none of `@Requires`, `@Authenticated` and `@Public` is refused by the guard (500: a wiring bug).
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(AUTHENTICATED_ROUTE, true), ApiExtension(ACCESS_EXTENSION, { authenticated: true }));

/** A route anyone may call without a credential (health, the web app's files, the OIDC configuration). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_ROUTE, true), ApiExtension(ACCESS_EXTENSION, { public: true }));

function principalOf(ctx: ExecutionContext): Principal {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // The guard runs before every non-public route: a route without a principal is a wiring bug.
  if (!principal) throw new Error('no authenticated principal on this request: is the route public, or the AuthGuard missing?');
  return principal;
}

/** The authenticated caller. */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => principalOf(ctx));

/** The caller's tenant (from the credential). */
export const CallerTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): string => principalOf(ctx).tenant);
