import { ConsoleLogger, type LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogLevel } from '@studio/config';

const ORDER: NestLogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];

/** The Nest log levels enabled by a configured LOG_LEVEL (`info` is Nest's `log`). */
export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  const nest: NestLogLevel = level === 'info' ? 'log' : level;
  return ORDER.slice(ORDER.indexOf(nest));
}

/**
 * Structured logging: Nest's own ConsoleLogger in JSON mode (one object per line), with the
 * service name on every line so that logs of several services can be told apart.
 */
export class ServiceLogger extends ConsoleLogger {
  constructor(
    readonly service: string,
    level: LogLevel,
  ) {
    super({ json: true, colors: false, logLevels: nestLogLevels(level) });
  }

  protected override getJsonLogObject(
    message: unknown,
    options: { context: string; logLevel: NestLogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown },
  ): ReturnType<ConsoleLogger['getJsonLogObject']> & { service: string } {
    return { ...super.getJsonLogObject(message, options), service: this.service };
  }
}
