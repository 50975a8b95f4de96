import type { Principal } from './principal';

/**
 * Verifies a bearer token that is not an API key (an OIDC access token, a JWT) and answers the
 * caller it names: tenant and role from the token's claims. Rejects (any error) when the token is
 * not valid: the guard answers 401 with the error's message; an HttpException it throws (a 403
 * for a role the platform does not know) is answered as it is.
 */
export interface BearerTokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * DI token of the BearerTokenVerifier; its value is null when OIDC is off (no issuer configured).
 * Provide it from a global module (or the module that imports KeysModule) to turn OIDC on; the
 * AuthGuard takes it as optional.
 */
export const BEARER_TOKEN_VERIFIER = Symbol('BEARER_TOKEN_VERIFIER');

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer credential has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return JWT_SHAPE.test(credential);
}
