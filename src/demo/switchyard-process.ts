/**
 * A real `switchyard serve` child process for the rollout demo, with its
 * JSON log lines available to wait on. The demo drives switchyard from the
 * outside, as an operator would, so it exercises the same start, watch and
 * reload path as production.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export type LogLine = Record<string, unknown> & { msg?: string }

export interface SwitchyardProcess {
  readonly configFile: string
  readonly proxyUrl: string
  readonly adminUrl: string
  /** Resolves with the first log line, from now on, that `accept` takes. */
  waitForLog (accept: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>
  stop (): Promise<void>
}

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url))

export async function startSwitchyardProcess (configFile: string, timeoutMs = 15_000): Promise<SwitchyardProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  const waiters = new Set<(line: LogLine) => void>()
  let stderr = ''
  child.stderr.on('data', d => { stderr += String(d) })
  let buf = ''
  child.stdout.on('data', d => {
    buf += String(d)
    let nl
    while ((nl = buf.indexOf('\n')) !== -1) {
      const text = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      let line: LogLine
      try { line = JSON.parse(text) as LogLine } catch { continue }
      for (const w of [...waiters]) w(line)
    }
  })

  const waitForLog = (accept: (line: LogLine) => boolean, ms: number): Promise<LogLine> => new Promise((resolve, reject) => {
    const done = (): void => { waiters.delete(onLine); clearTimeout(timer); child.off('exit', onExit) }
    const onLine = (line: LogLine): void => { if (accept(line)) { done(); resolve(line) } }
    const onExit = (code: number | null): void => { done(); reject(new Error(`switchyard exited (${String(code)}): ${stderr}`)) }
    const timer = setTimeout(() => { done(); reject(new Error(`no matching switchyard log line within ${ms} ms`)) }, ms)
    waiters.add(onLine)
    child.once('exit', onExit)
  })

  try {
    const started = await waitForLog(l => l.msg === 'switchyard started', timeoutMs)
    return { configFile, proxyUrl: String(started.proxy), adminUrl: String(started.admin), waitForLog, stop: async () => await stop(child) }
  } catch (err) {
    await stop(child)
    throw err
  }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}
