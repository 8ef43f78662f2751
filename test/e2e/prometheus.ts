/**
 * A real Prometheus server for the end-to-end tests: Debian's `prometheus`
 * binary on 127.0.0.1, a temporary data directory, and a config written for
 * the test. Queried through its HTTP API (/api/v1/query).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { stringify } from 'yaml'

export const INSTALL_HINT =
  'prometheus is not installed: run `apt-get install -y --no-install-recommends prometheus` ' +
  '(Debian/Ubuntu; .ci/run installs it when missing), or set PROMETHEUS=/path/to/prometheus'

/** The prometheus binary to run, or undefined when there is none. */
export function findPrometheus (): string | undefined {
  const bin = process.env.PROMETHEUS ?? 'prometheus'
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  return probe.error === undefined && probe.status === 0 ? bin : undefined
}

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>
  readonly value: number
}

export interface Prometheus {
  readonly url: string
  /** An instant query; `time` in Unix seconds (default: now). */
  query (expr: string, time?: number): Promise<PromSample[]>
  /** The server's log so far (for failure messages). */
  log (): Promise<string>
  stop (): Promise<void>
}

async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', () => resolve()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

interface QueryResponse {
  status: 'success' | 'error'
  error?: string
  data?: { resultType: string, result: Array<{ metric: Record<string, string>, value: [number, string] }> }
}

export interface PrometheusOptions {
  readonly bin: string
  /** A temporary directory the test owns: config, rules and data go there. */
  readonly dir: string
  /** host:port to scrape /metrics from, as job `switchyard`. */
  readonly target: string
  /** Rule files (already in `dir`), by file name. */
  readonly ruleFiles: readonly string[]
  readonly intervalSeconds: number
}

export async function startPrometheus (opts: PrometheusOptions): Promise<Prometheus> {
  const interval = `${opts.intervalSeconds}s`
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles,
    scrape_configs: [{ job_name: 'switchyard', static_configs: [{ targets: [opts.target] }] }]
  }
  const configFile = join(opts.dir, 'prometheus.yml')
  await writeFile(configFile, stringify(config))
  const port = await freePort()
  const logFile = join(opts.dir, 'prometheus.log')
  const logStream = createWriteStream(logFile)
  const child: ChildProcess = spawn(opts.bin, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(opts.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn'
  ], { cwd: opts.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.pipe(logStream)
  child.stderr?.pipe(logStream)
  const exited = once(child, 'exit')
  const url = `http://127.0.0.1:${port}`

  const log = async (): Promise<string> => await readFile(logFile, 'utf8').catch(() => '')
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    logStream.end()
  }

  // Ready when /-/ready answers 200 (TSDB open, rules loaded).
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${await log()}`)
    const ready = await fetch(`${url}/-/ready`).then(r => r.ok, () => false)
    if (ready) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus not ready within 30 s:\n${await log()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }

  return {
    url,
    log,
    stop,
    async query (expr, time) {
      const params = new URLSearchParams({ query: expr })
      if (time !== undefined) params.set('time', String(time))
      const res = await fetch(`${url}/api/v1/query?${params.toString()}`)
      const body = await res.json() as QueryResponse
      if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${expr}: ${body.error ?? res.status}`)
      return body.data.result.map(r => ({ metric: r.metric, value: Number(r.value[1]) }))
    }
  }
}
