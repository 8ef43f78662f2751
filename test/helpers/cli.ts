/** Runs the built `switchyard` command (dist/cli.js) as a user would. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface CliResult { code: number | null, stdout: string, stderr: string }

export function runCli (args: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string, input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += String(d) })
    child.stderr.on('data', d => { stderr += String(d) })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
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
