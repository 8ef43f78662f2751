/**
 * `npm test`: the type-check and the lint run beside the tests instead of
 * before them. tsc and eslint are single-threaded (~50 s of CPU together)
 * and the tap files spend much of their time waiting on sockets, timers and
 * child processes, so the two fill the idle core time instead of adding
 * their own minute to the wall time.
 *
 *   typecheck                          ┐
 *   lint                               ├ at once; the run fails if any part fails
 *   build:emit → tap → coverage:check  ┘ (a step runs only after the one before passed)
 *
 * tap's output streams as it comes; the type-check's and the lint's are held
 * and printed whole when each ends, so their lines never interleave with tap's.
 */
import { spawn } from 'node:child_process'

const PARTS = [
  ['npm run -s typecheck'],
  ['npm run -s lint'],
  ['npm run -s build:emit', 'tap', 'npm run -s coverage:check']
]

/** Runs one command; `live` passes its output through, else it is returned. */
function run (command, live) {
  return new Promise(resolve => {
    const child = spawn(command, { shell: true, stdio: live ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    let output = ''
    if (!live) {
      child.stdout.on('data', chunk => { output += chunk })
      child.stderr.on('data', chunk => { output += chunk })
    }
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, output }))
  })
}

async function part (commands) {
  const live = commands.length > 1
  for (const command of commands) {
    const started = Date.now()
    const { code, signal, output } = await run(command, live)
    const took = `${Math.round((Date.now() - started) / 1000)} s`
    const outcome = code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`
    process.stdout.write(`${output}${output === '' || output.endsWith('\n') ? '' : '\n'}# ${command}: ${outcome}, ${took}\n`)
    if (code !== 0) return command
  }
  return undefined
}

const failed = (await Promise.all(PARTS.map(part))).filter(c => c !== undefined)
if (failed.length > 0) {
  process.stdout.write(`# npm test failed: ${failed.join(', ')}\n`)
  process.exitCode = 1
}
