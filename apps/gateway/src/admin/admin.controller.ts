import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Controller,
  Delete,
  ForbiddenException,
  HttpCode,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  ServiceUnavailableException,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { describeError, TenantId } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { ApiKeyService } from '../auth/api-key.service';
import { AuditLog } from '../auth/audit-log';
import { Public } from '../auth/principal';
import { ServiceClient, type UpstreamName } from '../upstream/service-client';

export const ADMIN_SETTINGS = Symbol('ADMIN_SETTINGS');
export interface AdminSettings {
  /** The key admin requests carry in `x-admin-key`; null: administration is off. */
  apiKey: string | null;
}

export const ADMIN_KEY_HEADER = 'x-admin-key';

/** The services that hold a tenant's data, in the order their part of an erasure runs. */
export const TENANT_DATA_HOLDERS: readonly UpstreamName[] = ['auditor', 'instructor', 'reward-model', 'ontology', 'framer'];

function sameKey(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Checks the administration key of a request: 404 while administration is off, 401 without the key, 403 with a wrong one. */
export function requireAdminKey(settings: AdminSettings, key: string | undefined): void {
  if (settings.apiKey === null) throw new NotFoundException('administration is off: set ADMIN_API_KEY on the gateway to enable it');
  if (!key) throw new UnauthorizedException(`the ${ADMIN_KEY_HEADER} header is required`);
  if (!sameKey(key, settings.apiKey)) throw new ForbiddenException(`the ${ADMIN_KEY_HEADER} header does not hold the administration key`);
}

/**
 * The administration routes' guard (they are `@Public()` to the AuthGuard: a tenant's credential
 * does not open them): the `x-admin-key`, checked before the request's parameters and body.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(@Inject(ADMIN_SETTINGS) private readonly settings: AdminSettings) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers[
      ADMIN_KEY_HEADER
    ];
    requireAdminKey(this.settings, Array.isArray(header) ? header[0] : header);
    return true;
  }
}

/** Operations on the platform as a whole, for its operators (an `x-admin-key`, not a tenant's credential). */
@ApiTags('administration')
@ApiHeader({ name: ADMIN_KEY_HEADER, required: true, description: 'The administration key (ADMIN_API_KEY)' })
@Public()
@UseGuards(AdminKeyGuard)
@Controller('v1/admin')
export class AdminController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Delete('tenants/:tenantId')
  @HttpCode(200)
  @ApiOperation({
    summary: "Erase a tenant's data",
    description:
      "Revokes every API key of the tenant first (each stops working at once; each revocation is a `key.revoked` entry of the tenant's audit log), then deletes everything the tenant owns, in every service: contexts, documents and their clauses, dataset versions, training runs and adapters, audits and reports, preferences, their resolutions and preference datasets (records and artifact files), and the clause vectors of the retrieval index; keys created while that ran are revoked at its end. Answers what each service removed and the keys revoked (`revokedKeys`), and records `tenant.erased` in the audit log, which is kept (append-only). Idempotent: erasing again removes and revokes nothing more. 404 while administration is off (no ADMIN_API_KEY), 401 without the key, 403 with a wrong one; a service or the key store that cannot be reached answers 503, and the erasure can be repeated.",
  })
  @ApiParam({ name: 'tenantId' })
  @ApiOkResponse({ description: 'What each service removed, and the ids of the keys revoked' })
  async eraseTenant(
    @Param('tenantId', new ZodValidationPipe(TenantId, 'path parameter tenantId')) tenantId: string,
  ): Promise<{ tenantId: string; erased: Record<string, unknown>; revokedKeys: string[] }> {
    // Keys first: no key of the tenant writes anything while its data goes.
    const revoked = await this.revokeKeys(tenantId, 'nothing was erased');
    const erased: Record<string, unknown> = {};
    for (const service of TENANT_DATA_HOLDERS) {
      const answer = await this.upstream.forward(service, {
        method: 'DELETE',
        path: '/v1/tenant-data',
        tenant: tenantId,
        timeoutMs: 120_000,
      });
      erased[service] = answer.body;
    }
    // A key created by a credential the tenant still had (an OIDC admin's token) while the services erased.
    revoked.push(...(await this.revokeKeys(tenantId, 'its data was erased')));
    const revokedKeys = revoked.map((key) => key.id);
    await this.audit.record({
      actor: 'platform-admin',
      tenant: tenantId,
      action: 'tenant.erased',
      target: `tenant:${tenantId}`,
      before: null,
      after: { services: Object.keys(erased), revokedKeys },
    });
    return { tenantId, erased, revokedKeys };
  }

  private async revokeKeys(tenantId: string, state: string) {
    try {
      return await this.keys.revokeAll(tenantId, 'platform-admin');
    } catch (error) {
      throw new ServiceUnavailableException(
        `could not revoke the API keys of tenant "${tenantId}" (${describeError(error)}): ${state}; erase again`,
      );
    }
  }
}
