import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/principal';
import { OidcVerifier } from '../auth/oidc';
import { openApi } from '../upstream/api-schemas';
import { AuthConfigResponse } from './auth-config.schema';

export const OIDC_VERIFIER = Symbol('OIDC_VERIFIER');

@ApiTags('authentication')
@Controller('v1/auth')
export class AuthConfigController {
  constructor(@Inject(OIDC_VERIFIER) private readonly oidc: OidcVerifier | null) {}

  @Get('config')
  @Public()
  @ApiOperation({
    summary: 'How to sign in',
    description:
      "Public (no credential). Whether OIDC sign-in is on and, when it is, what a browser needs for an authorization-code + PKCE sign-in at the provider: issuer, client id, endpoints (from the provider's discovery document), scope and audience. The access token it obtains is sent as `Authorization: Bearer <token>`. 503 when the provider's discovery document cannot be read.",
  })
  @ApiOkResponse({ schema: openApi(AuthConfigResponse) })
  @ApiServiceUnavailableResponse({ description: 'OIDC is configured but the provider cannot be reached' })
  async config(): Promise<AuthConfigResponse> {
    return { apiKeys: true, oidc: this.oidc ? await this.oidc.clientConfig() : null };
  }
}
