/**
 * The `switchyard` command line: each subcommand lives in src/commands/;
 * this file only wires them to commander. `runProgram()` parses the
 * arguments, runs the command and returns its exit code, writing to the
 * given output — src/cli.ts hands it the process's, tests their own.
 * Exit codes: 0 ok, 1 failed or refused, 2 invalid config at `serve`,
 * 3 lost a race (the config changed between read and write; nothing was
 * changed), 4 a rollout (or `ramp`) was rolled back, 5 a watched rollout
 * paused for an operator.
 */
import { Command, CommanderError, Option } from 'commander'
import { serveCommand, type ServeOptions } from './serve.js'
import { testpageCommand } from './testpage.js'
import { validateCommand } from './validate.js'
import { CliError } from './admin-client.js'
import { rampCommand, type RampOptions } from './ramp.js'
import { rolloutStartCommand, rolloutStatusCommand, rolloutVerbCommand, type StartOptions, type WatchOptions } from './rollout.js'
import {
  diffCommand, explainCommand, historyCommand, promoteCommand, rollbackCommand, setWeightCommand, statusCommand, undoCommand, type EditOptions
} from './admin-commands.js'
import { cookieArg, countArg, durationArg, headerArg, percentArg, percentListOf, percentOf, portArg, probabilityArg, revisionArg, stepsArg, weightArg, workersArg } from './options.js'
import { processOutput, withOutput, type CliOutput } from './output.js'

const adminOption = (): Option => new Option('--admin <url>', 'admin API of the running switchyard (default $SWITCHYARD_ADMIN or http://127.0.0.1:9901)')
const jsonOption = (): Option => new Option('--json', 'print the API\'s JSON (for scripts)')
const fileOption = (): Option => new Option('-f, --file <file>', 'edit this config file in place instead (offline; a switchyard config or a ConfigMap manifest embedding one)')
const keyOption = (): Option => new Option('--key <key>', 'with --file on a ConfigMap: the data key holding the config (default: the first *.yaml/*.yml/*.json key)')
const stateDirOption = (): Option => new Option('--state-dir <dir>', 'with --file: where `serve` keeps that file\'s history (default $SWITCHYARD_STATE_DIR or the file\'s directory)')
const rolloutStoreOption = (): Option => new Option('--store <url>', 'act on the rollouts kept in the fleet\'s store instead (etcd://… or kubernetes://…; no replica needed, the fleet\'s leader picks the change up)').conflicts('admin')
const storeOption = (): Option => new Option('--store <url>', 'edit the fleet\'s routing store directly instead (etcd://HOST:PORT/PREFIX or kubernetes://NAMESPACE/CONFIGMAP; no replica needed, every replica applies it)')
const toleranceOption = (): Option => new Option('--tolerance <percent>', 'absolute tolerance: a canary whose error rate and share of slow requests are shown below this passes (default 1 for errors, 2 for slow requests)').argParser(percentOf('--tolerance'))
/** How often `--watch` reads the rollout; hidden (tests poll fast). */
const pollOption = (): Option => new Option('--poll <duration>', 'time between two reads while watching').argParser(durationArg('--poll')).hideHelp()
const forceOption = (): Option => new Option('--force', 'overwrite the config file even when it no longer holds the running revision (a hand edit that did not go live)')

/**
 * The commander program writing to `io`; an action's exit code goes to
 * `exit`. Commander's own exits (usage errors, --help, --version) throw a
 * CommanderError instead of ending the process.
 */
export function buildProgram (io: CliOutput, exit: (code: number) => void): Command {
  /** Runs an action; its exit code, or a CliError's message on stderr and its exit code. */
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) => async (...args: A): Promise<void> => {
    try {
      exit(await fn(...args) ?? 0)
    } catch (err) {
      if (!(err instanceof CliError)) throw err
      io.err(`switchyard: ${err.message}\n`)
      exit(err.exitCode)
    }
  }

  const program = new Command()
  // Set before any .command(): subcommands inherit both.
  program
    .exitOverride()
    .configureOutput({
      writeOut: text => { io.out(text) },
      writeErr: text => { io.err(text) },
      // Captured output is not a terminal: no wrapping to its width, no colours.
      ...(io === processOutput ? {} : { getOutHelpWidth: () => 80, getErrHelpWidth: () => 80, getOutHasColors: () => false, getErrHasColors: () => false })
    })
  program
    .name('switchyard')
    .description('Traffic-splitting reverse proxy for canary, blue/green and A/B releases')
    .version('0.1.0')
    .showHelpAfterError()
    .addHelpText('after', `
Commands that talk to a running switchyard use its admin API: --admin URL
(default $SWITCHYARD_ADMIN or http://127.0.0.1:9901), with the token from
$SWITCHYARD_ADMIN_TOKEN or $SWITCHYARD_ADMIN_TOKEN_FILE when one is set.`)

  program.command('serve')
    .description('run the proxy on a config file (hot-reloaded on change and on SIGHUP)')
    .option('-c, --config <file>', 'config file (YAML or JSON); default $SWITCHYARD_CONFIG or config/switchyard.yaml')
    .option('--state-dir <dir>', 'where the revision history is kept; default $SWITCHYARD_STATE_DIR or the config file\'s directory')
    .option('--store <url>', 'share the routing with a fleet through etcd://HOST:PORT[,HOST:PORT…]/PREFIX or kubernetes://NAMESPACE/CONFIGMAP (default $SWITCHYARD_STORE); the config file keeps the process settings and seeds an empty store')
    .option('--demo', 'also start a demo "testpage" backend on every local target of the config')
    .option('-w, --workers <n>', 'worker processes sharing the proxy port: a number, or `auto` for one per core (default 1: a single process)', workersArg, 1)
    .action(run(async (opts: ServeOptions) => await serveCommand(opts)))

  program.command('validate')
    .description('check a config file without serving it (like nginx -t); exit 0 when valid')
    .argument('<file>', 'config file (YAML or JSON)')
    .addOption(jsonOption())
    .action(run(async (file: string, opts: { json?: boolean }) => await validateCommand(file, opts)))

  program.command('status')
    .description('the running revision, last reload error, pending restart, effective weights per route, and targets')
    .addOption(adminOption()).addOption(jsonOption())
    .action(run(statusCommand))

  program.command('set-weight')
    .description('set a route\'s default split, e.g. `set-weight testpage canary=25` (a 90/10 split becomes 75/25)')
    .argument('<route>', 'route name')
    .argument('<weights...>', 'BACKEND=WEIGHT pairs (non-negative integers)', weightArg)
    .addOption(adminOption()).addOption(jsonOption()).addOption(fileOption()).addOption(keyOption()).addOption(storeOption()).addOption(forceOption())
    .action(run(setWeightCommand))

  program.command('promote')
    .description('send 100 % of a route\'s default split to one backend (blue/green flip, end of a canary)')
    .argument('<route>', 'route name')
    .argument('<backend>', 'backend to receive all traffic')
    .addOption(adminOption()).addOption(jsonOption()).addOption(fileOption()).addOption(keyOption()).addOption(storeOption()).addOption(forceOption())
    .action(run(promoteCommand))

  program.command('ramp')
    .description('canary rollout in steps, as `rollout start … --watch` (kept for scripts; see `rollout`)')
    .argument('<route>', 'route name')
    .argument('<backend>', 'backend whose share grows (e.g. canary)')
    .requiredOption('--steps <list>', 'percentages, increasing, e.g. 10,25,50,100', stepsArg)
    .requiredOption('--interval <duration>', 'the shortest time each step is held and judged (the rollout\'s --min-step), e.g. 30s, 5m', durationArg('--interval'))
    .option('--max-error-rate <percent>', 'guardrail: roll back when the canary\'s 5xx share is shown above this (exit 4)', percentArg)
    .option('--max-p99 <duration>', 'guardrail: roll back when the canary\'s p99 is shown above this, e.g. 250ms (exit 4)', durationArg('--max-p99'))
    .option('--min-requests <n>', 'requests each arm needs before a step can pass', countArg, 100)
    .addOption(toleranceOption())
    .addOption(adminOption()).addOption(pollOption())
    .addHelpText('after', `
Example: switchyard ramp web canary --steps 10,25,50,100 --interval 5m --max-error-rate 1 --max-p99 300ms
Exit codes: 0 done, 1 failed or refused, 3 someone else changed the route (the rollout paused, their change stands), 4 rolled back, 5 paused for an operator.`)
    .action(run(async (route: string, backend: string, opts: RampOptions) => await rampCommand(route, backend, opts)))

  const rollout = program.command('rollout')
    .description('progressive delivery run by switchyard itself: steps judged canary against baseline (docs/rollouts.md)')
  rollout.command('start')
    .description('start a rollout of BACKEND on ROUTE; each step is a revision, judged until it passes, pauses or rolls back')
    .argument('<route>', 'route name')
    .argument('<backend>', 'the canary: the backend whose share grows')
    .requiredOption('--steps <list>', 'the canary\'s percentages, increasing, e.g. 5,25,50,100', stepsArg)
    .option('--baseline <backend>', 'the backend the canary is judged against (default: the route\'s heaviest other backend)')
    .option('--pause-at <list>', 'manual gates: after these steps pass, wait for `rollout resume`', percentListOf('--pause-at'))
    .option('--min-step <duration>', 'the shortest a step can pass in (default 1m)', durationArg('--min-step'))
    .option('--max-step <duration>', 'a step still undecided by then pauses as inconclusive, never rolls back (default 10m)', durationArg('--max-step'))
    .option('--alpha <p>', 'chance of rolling back a canary that is no worse, per step (default 0.05)', probabilityArg('--alpha'))
    .option('--delta <x>', 'relative tolerance: worse means above (1 + δ) × the baseline\'s rate (default 0.5)', Number.parseFloat)
    .option('--max-error-rate <percent>', 'guardrail: roll back when the canary\'s error rate is shown above this', percentArg)
    .option('--max-p99 <duration>', 'guardrail: roll back when the canary\'s p99 is shown above this', durationArg('--max-p99'))
    .option('--slo <duration>', 'count requests slower than this as slow (default: the baseline\'s p99 before each step)', durationArg('--slo'))
    .option('--min-requests <n>', 'requests each arm needs before a step can pass (default 100)', countArg)
    .addOption(toleranceOption())
    .option('--watch', 'follow the rollout until it stops progressing; the exit code says how it ended')
    .addOption(adminOption()).addOption(rolloutStoreOption()).addOption(jsonOption()).addOption(pollOption())
    .addHelpText('after', `
Example: switchyard rollout start web canary --steps 5,25,50,100 --pause-at 50 --min-step 2m --watch
Exit codes with --watch: 0 succeeded, 3 paused because someone else changed the route, 4 rolled back, 5 paused for an operator.`)
    .action(run(async (route: string, backend: string, opts: StartOptions) => await rolloutStartCommand(route, backend, opts)))
  rollout.command('status')
    .description('where each rollout stands, and the numbers behind its last verdict')
    .argument('[route]', 'one route\'s rollout (default: all)')
    .option('--watch', 'follow the rollout until it stops progressing; the exit code says how it ended')
    .addOption(adminOption()).addOption(rolloutStoreOption()).addOption(jsonOption()).addOption(pollOption())
    .action(run(async (route: string | undefined, opts: WatchOptions) => await rolloutStatusCommand(route, opts)))
  for (const [verb, what] of [['pause', 'stop judging and moving; the canary keeps its weight'], ['resume', 'continue a paused rollout (after a gate: the next step; after an inconclusive step or an edit: the step judged afresh)'], ['abort', 'roll back to the weights the rollout started from']] as const) {
    rollout.command(verb)
      .description(what)
      .argument('<route>', 'route name')
      .addOption(adminOption()).addOption(rolloutStoreOption()).addOption(jsonOption())
      .action(run(async (route: string, opts: { admin?: string, store?: string, json?: boolean }) => await rolloutVerbCommand(verb, route, opts)))
  }
  rollout.command('promote')
    .description('skip the rest of the current step and go to the next (--full: to 100 % at once)')
    .argument('<route>', 'route name')
    .option('--full', 'skip every remaining step')
    .addOption(adminOption()).addOption(rolloutStoreOption()).addOption(jsonOption())
    .action(run(async (route: string, opts: { admin?: string, store?: string, json?: boolean, full?: boolean }) => await rolloutVerbCommand('promote', route, opts)))

  program.command('rollback')
    .description('go back to the previous revision (as a new revision)')
    .addOption(adminOption()).addOption(jsonOption()).addOption(fileOption()).addOption(stateDirOption()).addOption(storeOption()).addOption(forceOption())
    .action(run(rollbackCommand))

  program.command('undo')
    .description('go back to a given revision of the history (as a new revision)')
    .requiredOption('--to-revision <n>', 'revision number (see `switchyard history`)', revisionArg)
    .addOption(adminOption()).addOption(jsonOption()).addOption(fileOption()).addOption(stateDirOption()).addOption(storeOption()).addOption(forceOption())
    .action(run(async (opts: EditOptions & { toRevision: number }) => await undoCommand(opts.toRevision, opts)))

  program.command('history')
    .description('the last revisions: time, source and what changed')
    .addOption(adminOption()).addOption(jsonOption())
    .action(run(historyCommand))

  program.command('diff')
    .description('what applying FILE would change, and the share of traffic that would move')
    .argument('<file>', 'candidate config file')
    .option('--against <file>', 'compare with this config file instead of the running revision (offline)')
    .addOption(adminOption()).addOption(jsonOption())
    .action(run(diffCommand))

  program.command('explain')
    .description('which route, rule and backend a request would get, and why')
    .argument('[path]', 'request path with optional query', '/')
    .option('-X, --method <method>', 'request method', 'GET')
    .option('--host <host>', 'Host header')
    .option('-H, --header <header...>', '"Name: value" (repeatable)', headerArg)
    .option('--cookie <cookie...>', 'name=value (repeatable)', cookieArg)
    .option('--config <file>', 'explain against this config file instead of the running revision (offline)')
    .addOption(adminOption()).addOption(jsonOption())
    .action(run(explainCommand))

  program.command('testpage')
    .description('run the demo backend alone: answers "I am: <addr>, the version is: <version>"')
    .argument('<version>', 'the version it reports')
    .option('--host <host>', 'address to bind and report', '0.0.0.0')
    .option('--port <port>', 'port to bind (0: any free port)', portArg, 8080)
    .action(run(async (version: string, opts: { host?: string, port?: number }) => await testpageCommand(version, opts)))

  return program
}

/**
 * Runs `switchyard ARGS` (the arguments after the command's name) and
 * resolves to its exit code once the command returns — for `serve` and
 * `testpage`, once they are up. Everything it prints goes to `io`.
 */
export async function runProgram (args: readonly string[], io: CliOutput = processOutput): Promise<number> {
  let code = 0
  const program = buildProgram(io, c => { code = c })
  try {
    await withOutput(io, async () => await program.parseAsync(args, { from: 'user' }))
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    throw err
  }
  return code
}
