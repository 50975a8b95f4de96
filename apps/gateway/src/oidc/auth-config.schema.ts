import { z } from 'zod';

/** GET /v1/auth/config: how a client signs in (the web app reads it before it has a credential). */
export const AuthConfigResponse = z.object({
  apiKeys: z.literal(true).describe('API keys (Authorization: Bearer sk-studio-...) are always accepted'),
  oidc: z
    .object({
      issuer: z.string().describe("the OpenID provider's issuer"),
      clientId: z.string().describe('the public client id to sign in with (authorization code + PKCE, S256)'),
      authorizationEndpoint: z.string(),
      tokenEndpoint: z.string(),
      endSessionEndpoint: z.string().nullable().describe('where to sign out at the provider (RP-initiated logout), when it offers one'),
      scope: z.string().describe('the scopes to ask for'),
      audience: z
        .string()
        .describe('the audience of the access tokens the gateway accepts (the `resource` parameter, RFC 8707, for providers that use it)'),
    })
    .nullable()
    .describe('null: OIDC sign-in is off (OIDC_ISSUER unset)'),
});
export type AuthConfigResponse = z.infer<typeof AuthConfigResponse>;
