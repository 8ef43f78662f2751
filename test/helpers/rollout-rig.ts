/**
 * A rollout test rig: two seeded backends on 127.0.0.1 (each draws its
 * errors and slow answers from its own PRNG, so a backend's n-th request
 * behaves the same in every run with that seed), a real switchyard in front
 * with seeded routing, a clock the test moves, and looks the test drives:
 * send a batch of real requests, move the clock, look. No timing
 * assertions: what a look sees depends only on the seeds (latency on the
 * machine too, far from the bucket bounds the tests use).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Logger } from 'pino'
import { request } from 'undici'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import { startWith, type Running } from './switchyard.js'
import { seededEntropy } from './tables.js'

/** A seeded PRNG (mulberry32): uniform in [0, 1). */
export function prng (seed: number): () => number {
  return seededEntropy(seed).random
}

export interface Behaviour {
  /** Share of answers that are 500s. */
  readonly errorRate: number
  /** Share of answers held `slowMs` (the rest are answered at once). */
  readonly slowShare?: number
  readonly slowMs?: number
}

export interface SeededBackend {
  readonly url: string
  count: number
  close (): Promise<void>
}

export async function startSeededBackend (name: string, b: Behaviour, seed: number): Promise<SeededBackend> {
  const rand = prng(seed)
  const sockets = new Set<Socket>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    backend.count++
    const fail = rand() < b.errorRate
    const slow = rand() < (b.slowShare ?? 0)
    req.resume()
    const answer = (): void => { res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain', 'x-backend': name }).end(name) }
    if (slow) setTimeout(answer, b.slowMs ?? 0)
    else answer()
  })
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const backend: SeededBackend = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return backend
}

export const T0 = Date.UTC(2026, 0, 1)

export interface Rig {
  readonly p: Running
  readonly stable: SeededBackend
  readonly canary: SeededBackend
  readonly clock: { now: number }
  /** Sends `n` requests through the proxy, `concurrency` at a time; resolves with how many got a 5xx. */
  send (n: number, concurrency?: number): Promise<number>
  /** Moves the clock by `ms` and looks. */
  look (ms: number): Promise<RolloutState>
  state (): Promise<RolloutState>
  stop (): Promise<void>
  close (): Promise<void>
}

export interface RigOptions {
  readonly stable: Behaviour
  readonly canary: Behaviour
  readonly seed: number
  /** Reuse these backends (a restart of switchyard keeps its backends). */
  readonly backends?: { stable: SeededBackend, canary: SeededBackend }
  /** Directory of the config and state (a restart reuses it). */
  readonly dir?: string
  readonly clock?: { now: number }
  /** The config around the two backends' URLs (default rigConfig). */
  readonly config?: (stable: string, canary: string) => Record<string, unknown>
  /** The config file's text as it is (a restart: exactly what the rollout left). */
  readonly configText?: string
  /** Whether this instance leads (default: always). */
  readonly leader?: () => boolean
  /** switchyard's logger (default: silent). */
  readonly logger?: Logger
}

export const ROUTE = 'web'

export function rigConfig (stable: string, canary: string): Record<string, unknown> {
  return {
    backends: { stable: { version: '1.0', targets: [stable] }, canary: { version: '1.1', targets: [canary] } },
    routes: [{ name: ROUTE, split: { stable: 100, canary: 0 } }],
    shutdown: { drainDelay: '0s' }
  }
}

export async function startRig (o: RigOptions): Promise<Rig> {
  const stable = o.backends?.stable ?? await startSeededBackend('stable', o.stable, o.seed * 2 + 1)
  const canary = o.backends?.canary ?? await startSeededBackend('canary', o.canary, o.seed * 2 + 2)
  const clock = o.clock ?? { now: T0 }
  let stopped = false
  const p = await startWith(o.configText ?? (o.config ?? rigConfig)(stable.url, canary.url), {
    entropy: seededEntropy(o.seed),
    dir: o.dir,
    logger: o.logger,
    rollouts: { now: () => clock.now, tickMs: false, ...(o.leader === undefined ? {} : { leadership: { isLeader: o.leader } }) }
  }).catch(async (err: unknown) => {
    if (o.backends === undefined) await Promise.all([stable.close(), canary.close()])
    throw err
  })
  const one = async (): Promise<boolean> => {
    const res = await request(p.sy.proxyUrl + '/', { dispatcher: p.client })
    await res.body.dump()
    return res.statusCode >= 500
  }
  return {
    p,
    stable,
    canary,
    clock,
    async send (n, concurrency = 8) {
      let left = n
      let failed = 0
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
        while (left > 0) {
          left--
          if (await one()) failed++
        }
      }))
      return failed
    },
    async look (ms) {
      clock.now += ms
      await p.sy.rollouts.tick()
      return await p.sy.rollouts.get(ROUTE)
    },
    state: async () => await p.sy.rollouts.get(ROUTE),
    /** Stops switchyard, keeps its directory (for a restart) and the backends. */
    stop: async () => {
      stopped = true
      await p.client.close()
      await p.sy.close()
    },
    close: async () => {
      if (!stopped) await p.close()
      if (o.backends === undefined) await Promise.all([stable.close(), canary.close()])
    }
  }
}

export interface DriveOptions {
  /** Requests between two looks. */
  readonly perLook: number
  /** Clock time between two looks. */
  readonly lookMs: number
  /** Give up after this many looks. */
  readonly maxLooks: number
  /** Stop once this holds (default: the rollout is no longer Progressing). */
  readonly until?: (s: RolloutState) => boolean
}

/** Traffic and looks until the rollout stops progressing (or `until`); the final state and how many looks it took. */
export async function drive (rig: Rig, o: DriveOptions): Promise<{ state: RolloutState, looks: number }> {
  const until = o.until ?? (s => s.phase !== 'Progressing')
  let state = await rig.state()
  let looks = 0
  while (!until(state) && looks < o.maxLooks) {
    await rig.send(o.perLook)
    state = await rig.look(o.lookMs)
    looks++
  }
  return { state, looks }
}
