import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { routeAccess, type RouteAccess } from './auth.guard';
import { RATE_LIMIT_BUCKET, type RateLimitBucket } from './rate-limit';

/** One HTTP route of the gateway, as its controller declares it. */
export interface GatewayRoute {
  method: string;
  /** Express-style path: `/v1/contexts/:contextId/runs`. */
  path: string;
  controller: string;
  handler: string;
  access: RouteAccess;
  rateLimit: RateLimitBucket | null;
}

type ModuleEntry = Type<unknown> | DynamicModule | Promise<DynamicModule> | { forwardRef: () => unknown };

function paths(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : ''];
}

function join(...parts: string[]): string {
  const path = parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/');
  return `/${path}`;
}

/** The controllers of a module tree: dynamic modules' `controllers`, `@Module` metadata, and their imports. */
function controllersOf(root: DynamicModule): Type<unknown>[] {
  const seen = new Set<unknown>();
  const found: Type<unknown>[] = [];
  const visit = (entry: ModuleEntry | undefined): void => {
    if (!entry || seen.has(entry)) return;
    seen.add(entry);
    if (entry instanceof Promise) throw new Error('the gateway route table cannot read an asynchronous module import');
    if ('forwardRef' in entry) return visit(entry.forwardRef() as ModuleEntry);
    const isDynamic = typeof entry === 'object' && 'module' in entry;
    const moduleClass = isDynamic ? (entry as DynamicModule).module : (entry as Type<unknown>);
    const own = (key: string) => (Reflect.getMetadata(key, moduleClass) as unknown[] | undefined) ?? [];
    const controllers = [...own(MODULE_METADATA.CONTROLLERS), ...(isDynamic ? ((entry as DynamicModule).controllers ?? []) : [])];
    for (const controller of controllers as Type<unknown>[]) if (!found.includes(controller)) found.push(controller);
    const imports = [...own(MODULE_METADATA.IMPORTS), ...(isDynamic ? ((entry as DynamicModule).imports ?? []) : [])];
    for (const imported of imports as ModuleEntry[]) visit(imported);
    if (!seen.has(moduleClass)) visit(moduleClass);
  };
  visit(root);
  return found;
}

/**
 * Every HTTP route of a module tree (the gateway's root module: GatewayModule.forRoot(config)),
 * read from Nest's metadata with what each declares: its access (`@Public`, `@Authenticated`,
 * `@Requires(permission)`, or nothing — which the AuthGuard refuses) and its rate limit. A route
 * added to any module the gateway imports is listed without anyone listing it.
 */
export function gatewayRoutes(root: DynamicModule): GatewayRoute[] {
  const reflector = new Reflector();
  const routes: GatewayRoute[] = [];
  for (const controller of controllersOf(root)) {
    const base = paths(Reflect.getMetadata(PATH_METADATA, controller));
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor') continue;
      const handler = prototype[name];
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const own = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
      if (method === undefined || own === undefined) continue;
      // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
      const targets: [Function, Function] = [handler as Function, controller];
      for (const prefix of base)
        for (const path of paths(own))
          routes.push({
            method: RequestMethod[method],
            path: join(prefix, path),
            controller: controller.name,
            handler: name,
            access: routeAccess(reflector, targets),
            rateLimit: reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET, targets) ?? null,
          });
    }
  }
  return routes;
}
