/** One level of a logger: a message, or details and a message. */
export interface LogMethod {
  (message: string): void
  (details: Record<string, unknown>, message: string): void
}

/**
 * What the domain needs of a logger. The server passes its pino logger,
 * which fits; the domain never learns which logger runs, nor that HTTP does.
 */
export interface Logger {
  info: LogMethod
  warn: LogMethod
  error: LogMethod
}
