/**
 * Where a command's output goes: the process's stdout and stderr, or the
 * streams `runProgram()` was given (tests run the CLI in process and read
 * what it printed). Commands write through `output()` instead of
 * `process.stdout` (a lint rule keeps it so); the streams travel with the
 * async context of the command's run, so concurrent runs do not mix.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface CliOutput {
  out (text: string): void
  err (text: string): void
}

/* eslint-disable no-restricted-properties -- the one place that writes to the process's own streams */
export const processOutput: CliOutput = {
  out: text => { process.stdout.write(text) },
  err: text => { process.stderr.write(text) }
}
/* eslint-enable no-restricted-properties */

const current = new AsyncLocalStorage<CliOutput>()

/** The output of the command running in this async context. */
export function output (): CliOutput {
  return current.getStore() ?? processOutput
}

export async function withOutput<T> (io: CliOutput, fn: () => Promise<T>): Promise<T> {
  // The process's own streams need no context, and a context is not free:
  // the first AsyncLocalStorage.run() turns on async hooks for the rest of
  // the process, so under `serve` every tick, timer and promise of every
  // request paid for them (12 % of the proxy's throughput, bench/README.md).
  if (io === processOutput) return await fn()
  return await current.run(io, fn)
}
