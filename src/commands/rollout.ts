/**
 * `switchyard rollout start|status|pause|resume|promote|abort`: the CLI
 * over the admin API's /admin/rollouts. The rollout itself runs in
 * switchyard's control plane (src/control/rollouts/), not in this process:
 * the CLI may exit, the rollout goes on. `--watch` follows it until it
 * stops progressing, and exits with a code that says how it ended.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { RolloutState } from '../control/rollouts/model.js'
import type { JudgeSettings } from '../judge/config.js'
import { AdminClient, CliError } from './admin-client.js'
import { output } from './output.js'
import { formatRollout, headline } from './rollout-format.js'
import { withStoreRollouts } from './rollout-store.js'

/** Exit codes of `--watch`: how the rollout ended. */
export const EXIT = {
  succeeded: 0,
  /** Someone else changed the route: the rollout paused and left their change alone (as a lost race). */
  edited: 3,
  /** Rolled back: the judge found the canary worse, a guardrail broke, or an operator aborted it. */
  aborted: 4,
  /** Paused for an operator: a manual gate, an inconclusive step, a sample-ratio mismatch, a pause. */
  paused: 5
} as const

export interface RolloutCommonOptions {
  admin?: string
  /** A fleet's store URL: act on the rollouts kept there, with no replica to ask. */
  store?: string
  json?: boolean
}

export interface WatchOptions extends RolloutCommonOptions {
  watch?: boolean
  /** Milliseconds between two reads while watching. */
  poll?: number
}

export interface StartOptions extends WatchOptions {
  steps: number[]
  baseline?: string
  pauseAt?: number[]
  /** Milliseconds. */
  minStep?: number
  maxStep?: number
  alpha?: number
  delta?: number
  /** Percent: a canary rate shown below this passes (errors and slow requests). */
  tolerance?: number
  /** Percent. */
  maxErrorRate?: number
  /** Milliseconds. */
  maxP99?: number
  sloMs?: number
  minRequests?: number
}

const say = (s: string): void => { output().out(s.endsWith('\n') ? s : s + '\n') }

/** Where the CLI reads and commands rollouts: a replica's admin API, or the fleet's store itself (`--store`). */
interface Rollouts {
  list (): Promise<RolloutState[]>
  get (route: string): Promise<RolloutState>
  start (body: StartBody): Promise<RolloutState>
  verb (verb: Verb, route: string, full: boolean): Promise<RolloutState>
}

type Verb = 'pause' | 'resume' | 'abort' | 'promote'

interface StartBody {
  readonly route: string
  readonly backend: string
  readonly steps: number[]
  readonly baseline?: string
  readonly pauseAt?: number[]
  readonly judge: JudgeSettings
}

function adminRollouts (admin: string | undefined): Rollouts {
  const client = new AdminClient(admin)
  return {
    list: async () => (await client.call<{ rollouts: RolloutState[] }>('GET', path())).body.rollouts,
    get: async route => (await client.call<RolloutState>('GET', path(route))).body,
    start: async body => (await client.call<RolloutState>('POST', path(), body)).body,
    verb: async (verb, route, full) => (await client.call<RolloutState>('POST', path(route, verb), verb === 'promote' ? { full } : undefined)).body
  }
}

/** Each call opens the store, acts, and closes it (a `--watch` reads it afresh each time, as it would a replica). */
function storeRollouts (url: string): Rollouts {
  return {
    list: async () => await withStoreRollouts(url, async r => await r.list()),
    get: async route => await withStoreRollouts(url, async r => await r.get(route)),
    start: async body => await withStoreRollouts(url, async r => await r.start({ route: body.route, canary: body.backend, baseline: body.baseline, steps: body.steps, pauseAt: body.pauseAt, judge: body.judge })),
    verb: async (verb, route, full) => await withStoreRollouts(url, async r => verb === 'promote' ? await r.promote(route, full) : await r[verb](route))
  }
}

const rolloutsOf = (opts: RolloutCommonOptions): Rollouts => opts.store === undefined ? adminRollouts(opts.admin) : storeRollouts(opts.store)
const path = (route?: string, verb?: string): string => `/admin/rollouts${route === undefined ? '' : `/${encodeURIComponent(route)}`}${verb === undefined ? '' : `/${verb}`}`

/** The judge settings the flags ask for (unset flags keep the judge's defaults). */
export function judgeSettingsOf (o: StartOptions): JudgeSettings {
  const settings: Record<string, unknown> = {}
  if (o.minStep !== undefined) settings.minStepMs = o.minStep
  if (o.maxStep !== undefined) settings.maxStepMs = o.maxStep
  if (o.alpha !== undefined) settings.alpha = o.alpha
  const metric = { ...(o.delta === undefined ? {} : { delta: o.delta }), ...(o.tolerance === undefined ? {} : { tolerance: o.tolerance / 100 }) }
  if (Object.keys(metric).length > 0) {
    settings.errors = metric
    settings.latency = metric
  }
  if (o.maxErrorRate !== undefined) settings.maxErrorRate = o.maxErrorRate / 100
  if (o.maxP99 !== undefined) settings.maxLatencySeconds = o.maxP99 / 1000
  if (o.sloMs !== undefined) settings.sloSeconds = o.sloMs / 1000
  if (o.minRequests !== undefined) settings.minRequests = o.minRequests
  return settings as JudgeSettings
}

function print (s: RolloutState, opts: RolloutCommonOptions): void {
  say(opts.json === true ? JSON.stringify(s, null, 2) : formatRollout(s))
}

/** The exit code of a rollout that stopped progressing. */
export function exitCodeOf (s: RolloutState): number {
  if (s.phase === 'Succeeded') return EXIT.succeeded
  if (s.phase === 'Aborted') return EXIT.aborted
  return s.pauseReason === 'edited' ? EXIT.edited : EXIT.paused
}

/**
 * Follows a rollout until it stops progressing: a line for each change of
 * step or phase and for each decision (with --json, the state each time).
 */
async function watch (client: Rollouts, route: string, opts: WatchOptions, first: RolloutState): Promise<number> {
  let last = ''
  let decisions = 0
  let s = first
  for (;;) {
    const line = headline(s)
    if (opts.json === true) {
      if (s.updatedAt !== last) say(JSON.stringify(s))
      last = s.updatedAt
    } else {
      for (const d of s.decisions.slice(decisions)) say(`${d.at} step ${d.step} (${d.weight} %): ${d.outcome} → ${d.action}: ${d.reason}`)
      if (line !== last) say(`${line}: ${s.message}`)
      last = line
    }
    decisions = s.decisions.length
    if (s.phase !== 'Progressing') return exitCodeOf(s)
    await sleep(opts.poll ?? 1000)
    s = await client.get(route)
  }
}

export async function rolloutStartCommand (route: string, backend: string, opts: StartOptions): Promise<number> {
  const client = rolloutsOf(opts)
  const body = { route, backend, steps: opts.steps, ...(opts.baseline === undefined ? {} : { baseline: opts.baseline }), ...(opts.pauseAt === undefined ? {} : { pauseAt: opts.pauseAt }), judge: judgeSettingsOf(opts) }
  const started = await client.start(body)
  if (opts.watch === true) return await watch(client, route, opts, started)
  print(started, opts)
  return 0
}

export async function rolloutStatusCommand (route: string | undefined, opts: WatchOptions): Promise<number> {
  const client = rolloutsOf(opts)
  if (route === undefined) {
    if (opts.watch === true) throw new CliError('--watch needs a route: `switchyard rollout status ROUTE --watch`')
    const rollouts = await client.list()
    if (opts.json === true) say(JSON.stringify({ rollouts }, null, 2))
    else say(rollouts.length === 0 ? 'no rollouts' : rollouts.map(formatRollout).join('\n\n'))
    return 0
  }
  const s = await client.get(route)
  if (opts.watch === true) return await watch(client, route, opts, s)
  print(s, opts)
  return 0
}

export async function rolloutVerbCommand (verb: Verb, route: string, opts: RolloutCommonOptions & { full?: boolean }): Promise<number> {
  const s = await rolloutsOf(opts).verb(verb, route, opts.full === true)
  say(opts.json === true ? JSON.stringify(s, null, 2) : `${headline(s)}: ${s.message}`)
  return 0
}
