import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Logger, Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { webAppHandler, type WebAppOptions } from './web-app';

const WEB_APP_OPTIONS = Symbol('WEB_APP_OPTIONS');

/**
 * The studio web app at `/` (see web-app.ts), when its built folder exists; without it (the app
 * not built) the gateway is the API alone. A middleware, not a route: it is public by nature (the
 * app's files hold no data; the API behind them checks every credential) and it never takes a
 * path a route could answer.
 */
@Module({})
export class WebAppModule implements NestModule {
  constructor(@Inject(WEB_APP_OPTIONS) private readonly options: WebAppOptions | null) {}

  static forRoot(options: { root: string; connectSources?: readonly string[] }): DynamicModule {
    const found = existsSync(join(options.root, 'index.html'));
    const logger = new Logger('WebApp');
    if (found) logger.log(`serving the studio web app from ${options.root} at /`);
    else logger.log(`no web app at ${options.root} (build it with "npx nx run web:build"): the gateway serves the API only`);
    const value: WebAppOptions | null = found ? { root: options.root, connectSources: options.connectSources ?? [] } : null;
    return { module: WebAppModule, providers: [{ provide: WEB_APP_OPTIONS, useValue: value }] };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.options) consumer.apply(webAppHandler(this.options)).forRoutes('{*path}');
  }
}
