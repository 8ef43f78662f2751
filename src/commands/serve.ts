/** `switchyard serve`: run until SIGTERM/SIGINT; SIGHUP re-reads the config. */
import { createSwitchyard, type Switchyard } from '../app/switchyard.js'
import { ConfigError, formatProblem } from '../errors.js'
import { output } from './output.js'

export interface ServeOptions { config?: string, demo?: boolean, stateDir?: string, workers?: number, store?: string }

export async function serveCommand (opts: ServeOptions): Promise<number> {
  const configPath = opts.config ?? process.env.SWITCHYARD_CONFIG ?? 'config/switchyard.yaml'
  let sy: Switchyard
  try {
    sy = await createSwitchyard({ configPath, workers: opts.workers, demo: opts.demo === true, stateDir: opts.stateDir, store: opts.store ?? nonEmpty(process.env.SWITCHYARD_STORE) })
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
  process.on('SIGHUP', () => {
    sy.logger.info({ signal: 'SIGHUP' }, 'SIGHUP: re-reading the config')
    sy.live.reload('sighup').catch(() => {})
  })
  const stop = (signal: string): void => {
    sy.logger.info({ signal }, 'shutting down')
    // SIGTERM is how Kubernetes stops a pod: drain first. SIGINT (Ctrl-C) stops at once.
    ;(signal === 'SIGTERM' ? sy.shutdown() : sy.close()).then(() => process.exit(0), (err: unknown) => {
      sy.logger.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return 0
}

const nonEmpty = (s: string | undefined): string | undefined => s === undefined || s === '' ? undefined : s
