/**
 * The `switchyard` command as a user types it: in this process through
 * runProgram() (the same commander program as dist/cli.js, output captured;
 * milliseconds per call), or as a real process of the built dist/cli.js
 * where the process itself is the subject — exit codes of the binary,
 * signals, long-running `serve` and `testpage`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { runProgram } from '../../src/commands/program.js'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface CliResult { code: number | null, stdout: string, stderr: string }

export interface InProcessOptions {
  /**
   * Variables set in process.env while the command runs, then restored.
   * In-process runs share process.env: runs that overlap in time must
   * agree on these.
   */
  env?: NodeJS.ProcessEnv
  /** Called with each complete line the command prints on stdout. */
  onLine?: (line: string) => void
}

/** Runs `switchyard ARGS` in this process; resolves when the command returns. */
export async function runCli (args: string[], opts: InProcessOptions = {}): Promise<CliResult> {
  const saved = Object.entries(opts.env ?? {}).map(([k, v]) => {
    const before = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
    return [k, before] as const
  })
  let stdout = ''
  let stderr = ''
  let pending = ''
  try {
    const code = await runProgram(args, {
      out: text => {
        stdout += text
        pending += text
        let i
        while ((i = pending.indexOf('\n')) !== -1) {
          opts.onLine?.(pending.slice(0, i))
          pending = pending.slice(i + 1)
        }
      },
      err: text => { stderr += text }
    })
    return { code, stdout, stderr }
  } finally {
    for (const [k, before] of saved) {
      if (before === undefined) delete process.env[k]
      else process.env[k] = before
    }
  }
}

/**
 * Starts `switchyard ARGS` in this process and resolves once `ready` matches
 * a line of its stdout, with the whole run as `done`.
 */
export async function startCliInProcess (args: string[], ready: RegExp): Promise<{ lines: string[], match: RegExpExecArray, done: Promise<CliResult> }> {
  const lines: string[] = []
  let onReady: (m: RegExpExecArray) => void = () => {}
  const matched = new Promise<RegExpExecArray>(resolve => { onReady = resolve })
  const done = runCli(args, {
    onLine: line => {
      lines.push(line)
      const m = ready.exec(line)
      if (m !== null) onReady(m)
    }
  })
  const match = await Promise.race([matched, done.then(r => { throw new Error(`exited ${String(r.code)} before ready: ${r.stderr}${r.stdout}`) })])
  return { lines, match, done }
}

/** Runs the built dist/cli.js as its own process. */
export function spawnCli (args: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += String(d) })
    child.stderr.on('data', d => { stderr += String(d) })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

/** Starts a long-running command (`cli`: another copy of dist/cli.js); resolves once `ready` matches a line of its stdout. */
export function startCli (args: string[], ready: RegExp, opts: { env?: NodeJS.ProcessEnv, cwd?: string, cli?: string } = {}): Promise<{ child: ChildProcess, lines: string[], match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.cli ?? CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    let buf = ''
    let done = false
    child.stdout?.on('data', d => {
      buf += String(d)
      let i
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        const m = ready.exec(line)
        if (m !== null && !done) { done = true; resolve({ child, lines, match: m }) }
      }
    })
    let stderr = ''
    child.stderr?.on('data', d => { stderr += String(d) })
    child.on('exit', code => { if (!done) { done = true; reject(new Error(`exited ${String(code)} before ready: ${stderr}${lines.join('\n')}`)) } })
  })
}
