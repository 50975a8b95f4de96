import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { EventBusLogger } from '@studio/ports';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export const KAFKA_LOG_LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Routes kafkajs's own log lines to our logger, with its namespace and fields kept. */
export function kafkajsLogCreator(logger: EventBusLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const text = `kafkajs ${namespace}: ${message}`;
      const meta = { ...fields, namespace };
      switch (level) {
        case logLevel.ERROR:
          return logger.error(text, meta);
        case logLevel.WARN:
          return logger.warn(text, meta);
        case logLevel.INFO:
          return logger.info(text, meta);
        default:
          return logger.debug(text, meta);
      }
    };
}

/** The default logger: one JSON line per entry on stderr, at `warn` and above unless told. */
export function consoleEventBusLogger(minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): EventBusLogger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const write = (level: keyof typeof order) => (message: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[minLevel]) return;
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
