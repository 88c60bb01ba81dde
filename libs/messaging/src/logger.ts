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

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
