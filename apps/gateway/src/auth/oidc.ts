import { HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { ConfigError } from '@studio/config';
import { TenantId } from '@studio/contracts';
import type { JWTPayload, JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import type { GatewayEnv } from '../config';
import { AccessError } from './access-errors';
import type { BearerTokenVerifier } from './bearer-verifier';
import { isRole, ROLES, type Role } from './permissions';
import type { Principal } from './principal';

/** What the gateway needs to verify an issuer's tokens. */
export interface OidcSettings {
  issuer: string;
  audience: string;
  clientId: string;
  scope: string;
  tenantClaim: string;
  roleClaim: string;
  discoveryUrl: string;
  /** Overrides the discovery document's jwks_uri (an address the gateway can reach). */
  jwksUrl: string | null;
  jwksCacheMaxAgeMs: number;
  jwksCooldownMs: number;
  clockToleranceMs: number;
  algorithms: string[];
}

/** OIDC settings from the gateway's configuration; null when OIDC_ISSUER is unset. Throws when it is set without an audience. */
export function oidcSettings(config: GatewayEnv): OidcSettings | null {
  if (!config.OIDC_ISSUER) return null;
  if (!config.OIDC_AUDIENCE)
    throw new ConfigError(
      [
        {
          variable: 'OIDC_AUDIENCE',
          problem: 'OIDC_AUDIENCE is required when OIDC_ISSUER is set (the aud every access token must carry, as the provider issues it)',
        },
      ],
      'gateway',
    );
  return {
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    clientId: config.OIDC_CLIENT_ID,
    scope: config.OIDC_SCOPE,
    tenantClaim: config.OIDC_TENANT_CLAIM,
    roleClaim: config.OIDC_ROLE_CLAIM,
    discoveryUrl: config.OIDC_DISCOVERY_URL ?? `${config.OIDC_ISSUER.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    jwksUrl: config.OIDC_JWKS_URL ?? null,
    jwksCacheMaxAgeMs: config.OIDC_JWKS_CACHE_MAX_AGE_MS,
    jwksCooldownMs: config.OIDC_JWKS_COOLDOWN_MS,
    clockToleranceMs: config.OIDC_CLOCK_TOLERANCE_MS,
    algorithms: config.OIDC_ALGORITHMS,
  };
}

/** The part of an OpenID provider's discovery document the gateway and the web app use. */
export const DiscoveryDocument = z.object({
  issuer: z.string().min(1),
  jwks_uri: z.url(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  end_session_endpoint: z.url().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});
export type DiscoveryDocument = z.infer<typeof DiscoveryDocument>;

/** What the web app needs for an authorization-code + PKCE sign-in (GET /v1/auth/config). */
export interface OidcClientConfig {
  issuer: string;
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint: string | null;
  scope: string;
  audience: string;
}

/** A rejected token: 401 with `WWW-Authenticate: Bearer error="invalid_token"`, naming the reason. */
export function invalidToken(detail: string): AccessError {
  return AccessError.invalidCredential(`the bearer token is not valid: ${detail}`);
}

/** A valid token that gives no usable caller (no tenant, no studio role): 403 naming the claim. */
export function unusableClaims(detail: string): AccessError {
  return new AccessError(HttpStatus.FORBIDDEN, 'permission_denied', detail, {});
}

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

/** jose is published as an ES module only: loaded once, on first use. */
let josePromise: Promise<Jose> | null = null;
const loadJose = (): Promise<Jose> => (josePromise ??= import('jose'));

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

/**
 * Verifies OIDC access tokens (JWTs) against the issuer's published keys with `jose`: the
 * discovery document (read once it answers) gives the JWKS address; the key set is cached
 * (OIDC_JWKS_CACHE_MAX_AGE_MS) and read again when a token names an unknown key id, so a key
 * the issuer rotates in is accepted without a restart and a key it withdraws stops verifying
 * within the cache age. Issuer, audience, expiry (with OIDC_CLOCK_TOLERANCE_MS) and algorithm
 * are checked; the tenant and the role come from the token's claims, never from a header.
 */
export class OidcVerifier implements BearerTokenVerifier {
  private discovery: Promise<DiscoveryDocument> | null = null;
  private keys: Promise<JWTVerifyGetKey> | null = null;

  constructor(
    readonly settings: OidcSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The discovery document; a failed read is not kept (the next call tries again). */
  async discover(): Promise<DiscoveryDocument> {
    this.discovery ??= this.readDiscovery().catch((error: unknown) => {
      this.discovery = null;
      throw error;
    });
    return this.discovery;
  }

  private async readDiscovery(): Promise<DiscoveryDocument> {
    const url = this.settings.discoveryUrl;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
    } catch (error) {
      throw this.unreachable(`${url} did not answer (${describeCause(error)})`);
    }
    if (!res.ok) throw this.unreachable(`${url} answered ${res.status}`);
    const parsed = DiscoveryDocument.safeParse(await res.json().catch(() => null));
    if (!parsed.success)
      throw this.unreachable(
        `${url} is not an OpenID discovery document (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
      );
    if (parsed.data.issuer !== this.settings.issuer)
      throw this.unreachable(`${url} names the issuer "${parsed.data.issuer}", not the configured OIDC_ISSUER "${this.settings.issuer}"`);
    return parsed.data;
  }

  private unreachable(detail: string): HttpException {
    return new ServiceUnavailableException({ message: `the identity provider could not be used: ${detail}`, retryAfterSeconds: 5 });
  }

  private async keySet(): Promise<JWTVerifyGetKey> {
    this.keys ??= (async () => {
      const jose = await loadJose();
      const jwksUrl = this.settings.jwksUrl ?? (await this.discover()).jwks_uri;
      return jose.createRemoteJWKSet(new URL(jwksUrl), {
        cacheMaxAge: this.settings.jwksCacheMaxAgeMs,
        cooldownDuration: this.settings.jwksCooldownMs,
        timeoutDuration: 5_000,
      });
    })().catch((error: unknown) => {
      this.keys = null;
      throw error;
    });
    return this.keys;
  }

  /** What the web app needs to sign in at the provider. */
  async clientConfig(): Promise<OidcClientConfig> {
    const doc = await this.discover();
    return {
      issuer: doc.issuer,
      clientId: this.settings.clientId,
      authorizationEndpoint: doc.authorization_endpoint,
      tokenEndpoint: doc.token_endpoint,
      endSessionEndpoint: doc.end_session_endpoint ?? null,
      scope: this.settings.scope,
      audience: this.settings.audience,
    };
  }

  async verify(token: string): Promise<Principal> {
    const [jose, getKey] = await Promise.all([loadJose(), this.keySet()]);
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, getKey, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: Math.floor(this.settings.clockToleranceMs / 1000),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.rejection(jose, error, token);
    }
    return this.principalOf(payload);
  }

  private rejection(jose: Jose, error: unknown, token: string): HttpException {
    const { errors } = jose;
    if (error instanceof HttpException) return error;
    if (error instanceof errors.JWTExpired) {
      const exp = typeof error.payload['exp'] === 'number' ? new Date(error.payload['exp'] * 1000).toISOString() : 'an unknown time';
      return invalidToken(`the token expired at ${exp}`);
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss')
        return invalidToken(`the token's issuer "${String(error.payload['iss'])}" is not the configured issuer "${this.settings.issuer}"`);
      if (error.claim === 'aud')
        return invalidToken(
          `the token's audience ${JSON.stringify(error.payload['aud'] ?? null)} does not include "${this.settings.audience}"`,
        );
      return invalidToken(`claim ${error.claim}: ${error.reason === 'missing' ? 'missing' : error.message}`);
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      let kid = 'none';
      try {
        kid = String(jose.decodeProtectedHeader(token).kid ?? 'none');
      } catch {
        // the header was readable for the key lookup; keep "none"
      }
      return invalidToken(`the token's signing key (kid ${kid}) is not among the issuer's published keys`);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalidToken('the signature does not verify');
    if (error instanceof errors.JOSEAlgNotAllowed)
      return invalidToken(`algorithm not allowed (accepted: ${this.settings.algorithms.join(', ')})`);
    if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC'))
      return this.unreachable(`its keys could not be read (${describeCause(error)})`);
    if (error instanceof errors.JOSEError) return invalidToken(`not a valid signed JWT (${error.message})`);
    // The key set's HTTP read failed (fetch error, non-200 answer).
    return this.unreachable(`its keys could not be read (${describeCause(error)})`);
  }

  private principalOf(payload: JWTPayload): Principal {
    const { tenantClaim, roleClaim } = this.settings;
    const sub = payload.sub as string;
    const rawTenant = payload[tenantClaim];
    if (typeof rawTenant !== 'string' || rawTenant.length === 0)
      throw unusableClaims(
        `the token names no tenant: its claim "${tenantClaim}" is ${rawTenant === undefined ? 'missing' : 'not a string'}`,
      );
    const tenant = TenantId.safeParse(rawTenant);
    if (!tenant.success)
      throw unusableClaims(
        `the token's tenant claim "${tenantClaim}" is not a valid tenant id: ${tenant.error.issues[0]?.message ?? 'invalid'}`,
      );
    const role = this.roleOf(payload[roleClaim]);
    const name =
      [payload['name'], payload['preferred_username'], payload['email']].find((v): v is string => typeof v === 'string' && v.length > 0) ??
      sub;
    return { subject: `oidc:${sub}`, name, tenant: tenant.data, role, via: 'oidc' };
  }

  private roleOf(raw: unknown): Role {
    const { roleClaim } = this.settings;
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    if (values.length === 0)
      throw unusableClaims(`the token names no role: its claim "${roleClaim}" is missing (roles: ${ROLES.join(', ')})`);
    const known = [...new Set(values.filter(isRole))];
    if (known.length === 1) return known[0] as Role;
    if (known.length > 1)
      throw unusableClaims(`the token's claim "${roleClaim}" names several roles (${known.join(', ')}): a caller has exactly one`);
    throw unusableClaims(
      `the token's role ${values.map((v) => JSON.stringify(v)).join(', ')} (claim "${roleClaim}") is not a studio role (roles: ${ROLES.join(', ')})`,
    );
  }
}
