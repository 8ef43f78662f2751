/**
 * pino options. Credentials never reach the log: Authorization and Cookie
 * headers (and Set-Cookie) are redacted wherever a request or response is
 * logged. `log.format: pretty` (or LOG_FORMAT=pretty) prints coloured lines
 * for a terminal instead of JSON.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { openLogStream, PRETTY_MAIN, type LogFormat } from './log-streams.js'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'token'
]

export function createLogger (level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = {
    level: process.env.LOG_LEVEL ?? level,
    base: { service: 'switchyard' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' }
  }
  if (destination !== undefined) return pino(options, destination as pino.DestinationStream)
  const pretty = (process.env.LOG_FORMAT ?? format) === 'pretty'
  // Synchronous like pino's default stdout: a line is out before the process can exit.
  return pretty ? pino(options, openLogStream('stdout', { sync: true, pretty: PRETTY_MAIN })) : pino(options)
}

/** The logger a config's `log` section asks for. */
export function loggerFor (log: { level?: LevelWithSilent, format?: LogFormat } | undefined): Logger {
  return createLogger(log?.level ?? 'info', undefined, log?.format)
}

export type { Logger }
