import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { GatewayEnv } from '../config';
import { BEARER_TOKEN_VERIFIER } from '../auth/bearer-verifier';
import { OidcVerifier, oidcSettings } from '../auth/oidc';
import { AuthConfigController, OIDC_VERIFIER } from './auth-config.controller';

/**
 * OIDC bearer tokens: provides BEARER_TOKEN_VERIFIER (the OidcVerifier, or null when OIDC_ISSUER
 * is unset) to the AuthGuard, and GET /v1/auth/config for the web app's sign-in.
 */
@Global()
@Module({})
export class OidcModule {
  static forRoot(config: GatewayEnv): DynamicModule {
    const settings = oidcSettings(config);
    const verifier = settings ? new OidcVerifier(settings) : null;
    return {
      module: OidcModule,
      controllers: [AuthConfigController],
      providers: [
        { provide: OIDC_VERIFIER, useValue: verifier },
        { provide: BEARER_TOKEN_VERIFIER, useValue: verifier },
      ],
      exports: [BEARER_TOKEN_VERIFIER, OIDC_VERIFIER],
    };
  }
}
