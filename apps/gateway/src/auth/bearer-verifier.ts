import type { Principal } from './principal';

/**
 * Verifies a bearer token that is not an API key (an OIDC access token, a JWT): resolves with the
 * caller it names, or rejects with an HttpException (401 for a bad or expired token, 403 for a
 * valid token without a usable tenant or role, 503 when the issuer cannot be reached).
 */
export interface BearerTokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** DI token of the BearerTokenVerifier; its value is null when OIDC is off. */
export const BEARER_TOKEN_VERIFIER = Symbol('BEARER_TOKEN_VERIFIER');
