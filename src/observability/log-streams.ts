/**
 * Where log lines go: stdout, stderr or a file (appended to), as pino's
 * JSON lines or, for a terminal, pino-pretty's coloured ones. pino-pretty is
 * loaded only when a pretty format is asked for: a JSON deployment never
 * loads it.
 */
import { createRequire } from 'node:module'
import { pino, type DestinationStream } from 'pino'
import type { PrettyOptions } from 'pino-pretty'

export type LogFormat = 'json' | 'pretty'

export interface LogStream extends DestinationStream {
  /** Writes what is buffered, then closes a file (stdout and stderr stay open). */
  close (): Promise<void>
}

type SonicBoom = ReturnType<typeof pino.destination>
type Prettifier = (line: string) => string

const require = createRequire(import.meta.url)

function prettifier (options: PrettyOptions): Prettifier {
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty')
  return prettyFactory(options) as Prettifier
}

function fdOf (destination: string): number | undefined {
  return destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : undefined
}

/** Colours only on a terminal. */
function colourful (destination: string): boolean {
  const fd = fdOf(destination)
  return fd === 1 ? process.stdout.isTTY : fd === 2 ? process.stderr.isTTY : false
}

/** A buffered stream writes once this much has gathered… */
const BUFFER_BYTES = 8192
/** …or this often, whichever comes first (nginx's `access_log … buffer= flush=`). */
const FLUSH_MS = 250

/**
 * Opens `destination`. `sync: true` writes each line before returning (the
 * main log: a line is out before the process can exit). `sync: false`
 * gathers lines and writes them 8 KiB or 250 ms at a time: one write(2)
 * per line cost the access log more than the line itself. pino writes what
 * is gathered when the process exits, and close() does too.
 */
export function openLogStream (destination: string, opts: { sync: boolean, pretty?: PrettyOptions }): LogStream {
  const fd = fdOf(destination)
  const buffering = opts.sync ? {} : { minLength: BUFFER_BYTES, periodicFlush: FLUSH_MS }
  const boom: SonicBoom = pino.destination(fd === undefined
    ? { dest: destination, sync: opts.sync, mkdir: true, append: true, ...buffering }
    : { dest: fd, sync: opts.sync, ...buffering })
  // end() writes what is buffered; it closes a file but never fd 1 or 2.
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    await (closed ??= new Promise<void>(resolve => {
      boom.once('close', () => resolve())
      boom.end()
    }))
  }
  if (opts.pretty === undefined) return Object.assign(boom, { close })
  const pretty = prettifier({ colorize: colourful(destination), ...opts.pretty })
  return { write: (line: string) => boom.write(pretty(line)), close }
}

/** pino-pretty settings for the main log: time of day, no pid/hostname/service noise. */
export const PRETTY_MAIN: PrettyOptions = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }
