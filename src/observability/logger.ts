/**
 * pino options. Credentials never reach the log: Authorization and Cookie
 * headers (and Set-Cookie) are redacted wherever a request or response is
 * logged.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'token'
]

export function createLogger (level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: process.env.LOG_LEVEL ?? level,
    base: { service: 'switchyard' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' }
  }
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream)
}

export type { Logger }
