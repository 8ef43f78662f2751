/** `switchyard serve`: run until SIGTERM/SIGINT; SIGHUP re-reads the config. */
import { availableParallelism } from 'node:os'
import type { Logger } from 'pino'
import { startPrimary } from '../cluster.js'
import { ConfigError, formatProblem } from '../errors.js'
import { startSwitchyard } from '../serve.js'
import { output } from './output.js'

export interface ServeOptions { config?: string, demo?: boolean, stateDir?: string, workers?: string }

/** What the command needs of a running switchyard, single-process or cluster. */
interface Running {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly logger: Logger
  reload (): void
  stop (drain: boolean): Promise<void>
}

export function parseWorkers (value: string | undefined): number | undefined {
  if (value === undefined || value === '') return 1
  if (value === 'auto') return availableParallelism()
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined
}

async function start (configPath: string, opts: ServeOptions, workers: number): Promise<Running> {
  if (workers > 1) return await startPrimary({ configPath, workers, stateDir: opts.stateDir, demo: opts.demo === true })
  const sy = await startSwitchyard({ configPath, demo: opts.demo === true, stateDir: opts.stateDir })
  return {
    proxyUrl: sy.proxyUrl,
    adminUrl: sy.adminUrl,
    logger: sy.logger,
    reload: () => { sy.live.reload('sighup').catch(() => {}) },
    stop: async drain => await (drain ? sy.shutdown() : sy.close())
  }
}

export async function serveCommand (opts: ServeOptions): Promise<number> {
  const configPath = opts.config ?? process.env.SWITCHYARD_CONFIG ?? 'config/switchyard.yaml'
  const workers = parseWorkers(opts.workers)
  if (workers === undefined) {
    output().err(`switchyard: --workers takes a number from 1 to 256 or \`auto\`, not ${JSON.stringify(opts.workers)}\n`)
    return 1
  }
  let sy: Running
  try {
    sy = await start(configPath, opts, workers)
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) output().err(formatProblem(p, err.file) + '\n')
      output().err(`switchyard: not started, the config is invalid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n`)
      return 2
    }
    output().err(`switchyard: not started: ${(err as Error).message}\n`)
    return 1
  }
  if (opts.demo === true) {
    output().out([
      '',
      `switchyard is up: proxy ${sy.proxyUrl}, admin ${sy.adminUrl}`,
      'try:',
      `  curl ${sy.proxyUrl}/`,
      `  curl -H 'x-canary: always' ${sy.proxyUrl}/`,
      `  curl -H 'Cookie: canary=never' ${sy.proxyUrl}/`,
      `  for i in $(seq 20); do curl -s ${sy.proxyUrl}/; done | sort | uniq -c`,
      ''
    ].join('\n') + '\n')
  }
  process.on('SIGHUP', () => sy.reload())
  const stop = (signal: string): void => {
    sy.logger.info({ signal }, 'shutting down')
    // SIGTERM is how Kubernetes stops a pod: drain first. SIGINT (Ctrl-C) stops at once.
    sy.stop(signal === 'SIGTERM').then(() => process.exit(0), (err: unknown) => {
      sy.logger.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return 0
}
