/** The little logging surface the messaging helpers need; pino and Nest loggers both fit via a wrapper. */
export interface MessagingLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** Default: one JSON line per warning or error on stderr; info is dropped. */
export const stderrLogger: MessagingLogger = {
  info() {},
  warn(message, meta) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', msg: message, ...meta })}\n`);
  },
  error(message, meta) {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: message, ...meta })}\n`);
  },
};

/** Any logger with Nest's `log` / `warn` / `error` (e.g. `new Logger('inventory')`); meta goes on the line as JSON. */
export interface LineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A MessagingLogger writing through a Nest-style logger (one shared wrapper instead of one per service). */
export function messagingLoggerOf(log: LineLogger): MessagingLogger {
  const line = (m: string, meta?: Record<string, unknown>) => (meta ? `${m} ${JSON.stringify(meta)}` : m);
  return {
    info: (m, meta) => log.log(line(m, meta)),
    warn: (m, meta) => log.warn(line(m, meta)),
    error: (m, meta) => log.error(line(m, meta)),
  };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
