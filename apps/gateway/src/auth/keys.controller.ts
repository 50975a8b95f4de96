import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { TenantId } from '@studio/contracts';
import { z } from 'zod';
import { ZodValidationPipe } from '@studio/nest';
import { ADMIN_KEY_HEADER, AdminKeyGuard } from '../admin/admin.controller';
import { ProblemDetails } from '../http/problem-details';
import { openApi } from '../upstream/api-schemas';
import { ApiKeyService, type CreatedKey } from './api-key.service';
import type { ApiKeyView } from './api-keys';
import { AuditLog, type AuditEntry } from './audit-log';
import {
  ApiKeyView as ApiKeyViewSchema,
  AuditLogQuery,
  ChangeKeyRoleRequest,
  CreatedKey as CreatedKeySchema,
  CreateKeyRequest,
  KeyId,
} from './keys-api';
import { ROLE_PERMISSIONS, type Permission } from './permissions';
import { Authenticated, Caller, CallerTenant, Public, Requires, type Principal } from './principal';

export interface Me {
  subject: string;
  name: string;
  tenant: string;
  role: Principal['role'];
  via: Principal['via'];
  permissions: readonly Permission[];
}

/** The caller, the tenant's API keys, and the tenant's audit log. */
@ApiTags('access')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No credential, or a bad one (WWW-Authenticate: Bearer)', schema: openApi(ProblemDetails) })
@ApiForbiddenResponse({ description: "The caller's role lacks the permission (named in the problem)", schema: openApi(ProblemDetails) })
@Controller('v1')
export class KeysController {
  constructor(
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Get('me')
  @Authenticated()
  @ApiOperation({
    summary: 'Who the credential says the caller is',
    description: 'Subject, name, tenant, role, how it was authenticated, and the permissions of its role.',
  })
  @ApiOkResponse({ description: 'The caller' })
  me(@Caller() caller: Principal): Me {
    return {
      subject: caller.subject,
      name: caller.name,
      tenant: caller.tenant,
      role: caller.role,
      via: caller.via,
      permissions: ROLE_PERMISSIONS[caller.role],
    };
  }

  @Post('keys')
  @Requires('keys:manage')
  @ApiOperation({
    summary: 'Create an API key of the tenant',
    description:
      'The key is bound to the caller’s tenant and the given role. The answer holds the key itself, shown this once: only its hash is stored. Recorded in the audit log (key.created).',
  })
  @ApiBody({ schema: openApi(CreateKeyRequest) })
  @ApiCreatedResponse({ description: 'The key, with the key itself', schema: openApi(CreatedKeySchema) })
  create(@Caller() caller: Principal, @Body(new ZodValidationPipe(CreateKeyRequest)) body: CreateKeyRequest): Promise<CreatedKey> {
    return this.keys.create(caller.tenant, body, caller);
  }

  @Get('keys')
  @Requires('keys:manage')
  @ApiOperation({ summary: 'The tenant’s API keys', description: 'Newest first, revoked ones included; never a secret or a hash.' })
  @ApiOkResponse({
    description: 'The keys',
    schema: { type: 'object', properties: { keys: { type: 'array', items: openApi(ApiKeyViewSchema) } } },
  })
  async list(@CallerTenant() tenant: string): Promise<{ keys: ApiKeyView[] }> {
    return { keys: await this.keys.list(tenant) };
  }

  @Patch('keys/:keyId')
  @Requires('keys:manage')
  @ApiOperation({
    summary: 'Change the role of an API key',
    description:
      'Takes effect on the key’s next request. Recorded in the audit log (key.role-changed, before and after). 409 for a revoked key.',
  })
  @ApiParam({ name: 'keyId' })
  @ApiBody({ schema: openApi(ChangeKeyRoleRequest) })
  @ApiOkResponse({ description: 'The key', schema: openApi(ApiKeyViewSchema) })
  @ApiNotFoundResponse({ description: 'No such key in the caller’s tenant', schema: openApi(ProblemDetails) })
  changeRole(
    @Caller() caller: Principal,
    @Param('keyId', new ZodValidationPipe(KeyId, 'path parameter keyId')) keyId: string,
    @Body(new ZodValidationPipe(ChangeKeyRoleRequest)) body: ChangeKeyRoleRequest,
  ): Promise<ApiKeyView> {
    return this.keys.changeRole(caller.tenant, keyId, body.role, caller);
  }

  @Delete('keys/:keyId')
  @HttpCode(200)
  @Requires('keys:manage')
  @ApiOperation({
    summary: 'Revoke an API key',
    description:
      'The key stops working at once, on every gateway replica. Recorded in the audit log (key.revoked). Revoking it again changes nothing.',
  })
  @ApiParam({ name: 'keyId' })
  @ApiOkResponse({ description: 'The revoked key', schema: openApi(ApiKeyViewSchema) })
  @ApiNotFoundResponse({ description: 'No such key in the caller’s tenant', schema: openApi(ProblemDetails) })
  revoke(
    @Caller() caller: Principal,
    @Param('keyId', new ZodValidationPipe(KeyId, 'path parameter keyId')) keyId: string,
  ): Promise<ApiKeyView> {
    return this.keys.revoke(caller.tenant, keyId, caller);
  }

  @Get('audit-log')
  @Requires('audit-log:read')
  @ApiOperation({
    summary: 'The tenant’s audit log',
    description:
      'Approvals, deployments, key and role changes: who, what, when, before and after. Newest first; `action` filters, `limit` (1-1000, default 100) bounds.',
  })
  @ApiQuery({ name: 'action', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'The entries' })
  async auditLog(
    @CallerTenant() tenant: string,
    @Query(new ZodValidationPipe(AuditLogQuery, 'query')) query: z.infer<typeof AuditLogQuery>,
  ): Promise<{ entries: AuditEntry[] }> {
    return { entries: await this.audit.read(tenant, { limit: query.limit, ...(query.action ? { action: query.action } : {}) }) };
  }

  @Post('admin/tenants/:tenantId/keys')
  @Public()
  @UseGuards(AdminKeyGuard)
  @ApiTags('administration')
  @ApiHeader({ name: ADMIN_KEY_HEADER, required: true, description: 'The administration key (ADMIN_API_KEY)' })
  @ApiOperation({
    summary: 'Create an API key of any tenant (platform bootstrap)',
    description:
      'For a tenant’s first key: the platform’s operators create it with the administration key (x-admin-key), not a tenant credential. 404 while administration is off (no ADMIN_API_KEY), 401 without the key, 403 with a wrong one. Recorded in the tenant’s audit log (key.created by platform-admin).',
  })
  @ApiParam({ name: 'tenantId' })
  @ApiBody({ schema: openApi(CreateKeyRequest) })
  @ApiCreatedResponse({ description: 'The key, with the key itself', schema: openApi(CreatedKeySchema) })
  bootstrap(
    @Param('tenantId', new ZodValidationPipe(TenantId, 'path parameter tenantId')) tenantId: string,
    @Body(new ZodValidationPipe(CreateKeyRequest)) body: CreateKeyRequest,
  ): Promise<CreatedKey> {
    return this.keys.create(tenantId, body, 'platform-admin');
  }
}
