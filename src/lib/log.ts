import type { LogLevel } from '../config.ts';

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Context keys whose values are never written: a log line must not carry a
 * secret even when a caller passes a whole object by mistake.
 */
const SECRET_KEY_PATTERN = /pass(word)?|secret|token|api_?key|authorization|cookie|session/i;

export type LogContext = Record<string, unknown>;

export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
  /** A logger that adds `context` to every line, e.g. `log.child({ component: 'retention' })`. */
  child(context: LogContext): Logger;
}

/**
 * Structured logger: one JSON object per line with `level`, `time`, `msg` and
 * the context. Lines below `level` are dropped.
 *
 * @example createLogger('info').info('listening', { port: 3000 })
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: LogContext = {},
): Logger {
  const emit = (lineLevel: LogLevel, message: string, context: LogContext = {}) => {
    if (SEVERITY[lineLevel] < SEVERITY[level]) return;
    const line = { level: lineLevel, time: new Date().toISOString(), msg: message, ...redact({ ...base, ...context }) };
    write(JSON.stringify(line));
  };
  return {
    debug: (message, context) => emit('debug', message, context),
    info: (message, context) => emit('info', message, context),
    warn: (message, context) => emit('warn', message, context),
    error: (message, context) => emit('error', message, context),
    child: (context) => createLogger(level, write, { ...base, ...context }),
  };
}

function redact(context: LogContext, depth = 0): LogContext {
  const out: LogContext = {};
  for (const [key, value] of Object.entries(context)) {
    if (SECRET_KEY_PATTERN.test(key)) out[key] = '[redacted]';
    else out[key] = redactValue(value, depth);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (depth >= 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return redact(value as LogContext, depth + 1);
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger('error', () => {});
