import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { TenantId as TenantIdSchema } from '@studio/contracts';
import { ZodValidationPipe } from './zod-validation.pipe';

/** The part of an HTTP request this decorator reads. */
interface WithHeaders {
  headers: Record<string, string | string[] | undefined>;
}

export const TENANT_HEADER = 'x-tenant-id';

const tenantHeaderValue = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => {
  const value = ctx.switchToHttp().getRequest<WithHeaders>().headers[TENANT_HEADER];
  return Array.isArray(value) ? value[0] : value;
});

/**
 * The tenant of a request, from the `x-tenant-id` header (authentication will set it later).
 * Give it a validation pipe: a missing header reaches the pipe as undefined.
 */
export function TenantHeader(...pipes: PipeTransform[]): ParameterDecorator {
  return tenantHeaderValue(undefined, ...pipes);
}

/** The `x-tenant-id` header, validated: 400 "x-tenant-id header is required" when absent. */
export function Tenant(): ParameterDecorator {
  return TenantHeader(new ZodValidationPipe(TenantIdSchema, `${TENANT_HEADER} header`));
}
