import { Controller, Delete, HttpCode, Inject } from '@nestjs/common';
import { tenantId } from '@studio/ports';
import { Tenant } from './tenant-header';

/** Erases everything a service holds for one tenant; returns what it removed (records per collection, artifact files, vector contexts). */
export interface TenantDataEraser {
  erase(tenant: ReturnType<typeof tenantId>): Promise<{ records: Record<string, number>; artifacts: number; vectorContexts: string[] }>;
}
export const TENANT_DATA_ERASER = Symbol('TENANT_DATA_ERASER');

/**
 * `DELETE /v1/tenant-data`: the service's part of a tenant's erasure (the gateway's admin
 * operation calls every service). Idempotent: a second call removes nothing more.
 */
@Controller('v1/tenant-data')
export class TenantDataController {
  constructor(@Inject(TENANT_DATA_ERASER) private readonly eraser: TenantDataEraser) {}

  @Delete()
  @HttpCode(200)
  async erase(
    @Tenant() tenant: string,
  ): Promise<{ tenantId: string; records: Record<string, number>; artifacts: number; vectorContexts: string[] }> {
    return { tenantId: tenant, ...(await this.eraser.erase(tenantId(tenant))) };
  }
}
