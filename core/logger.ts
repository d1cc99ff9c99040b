import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs on stdout (pino). Tests pass `level: 'silent'`. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'siem-lite',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
