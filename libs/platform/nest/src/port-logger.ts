import { Logger } from '@nestjs/common';
import type { EventBusLogger } from '@studio/ports';

/** The adapters' logger port (event bus, Mongo), written through Nest's logger: JSON lines with the fields. */
export function portLogger(context: string): EventBusLogger {
  const logger = new Logger(context);
  const entry = (message: string, fields?: Record<string, unknown>) =>
    fields && Object.keys(fields).length > 0 ? { msg: message, ...fields } : message;
  return {
    debug: (message, fields) => logger.debug(entry(message, fields)),
    info: (message, fields) => logger.log(entry(message, fields)),
    warn: (message, fields) => logger.warn(entry(message, fields)),
    error: (message, fields) => logger.error(entry(message, fields)),
  };
}
