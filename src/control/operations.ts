/**
 * The operations service: every change an operator makes to routing (a
 * whole config, a route's weights, promote, rollback, undo) and the
 * read-only questions about it (explain a request, diff a candidate). The
 * admin API and the CLI are adapters over this one service, so an edit
 * means the same thing whichever way it arrives.
 *
 * A change runs inside LiveConfig.exclusive(): the expected revision is
 * checked against the one in force, then the new text is validated,
 * written and applied as one step, with no reload or other change in
 * between. Failures are coded domain errors (src/errors.ts); how they are
 * answered (HTTP status, exit code) is the adapter's business.
 */
import { stringify as toYaml } from 'yaml'
import { promoteBackend, setRouteWeights } from '../config/edit.js'
import { summariseChange } from '../config/summary.js'
import { ConfigError, SwitchyardError } from '../errors.js'
import { buildFromText } from '../routing/build.js'
import { explain, syntheticView, type Explanation, type SyntheticRequest } from '../routing/explain.js'
import { trafficDiff, type TrafficDiff } from '../routing/traffic-diff.js'
import type { RoutingTable } from '../routing/types.js'
import type { ConfigOrigin } from './live-config.js'
import type { LiveConfig } from './live-config.js'

/** Who asks for a change: it is recorded with the revision. */
export type ChangeOrigin = Extract<ConfigOrigin, 'api' | 'cli'>

export interface ChangeOptions {
  readonly origin: ChangeOrigin
  /**
   * The revisions the caller read (an If-Match list): the change is refused
   * unless one of them is in force. Undefined: whatever is in force.
   */
  readonly expected?: readonly number[]
  /** Write even when the source no longer holds the running revision (a hand edit waiting to be fixed). */
  readonly force?: boolean
}

/** What a change did: the revision in force afterwards. */
export interface ChangeResult {
  readonly revision: number
  readonly sha256: string
  /** False when the result equals the running config (no new revision). */
  readonly changed: boolean
  readonly summary: string
}

/** A whole config: text (YAML or JSON), or an object written out in the source's format. */
export type ConfigInput = string | Readonly<Record<string, unknown>>

/** `revision`: the running revision explained, or null for a candidate config. */
export type ExplainResult = Explanation & { readonly revision: number | null }
/** `revision`: the running revision compared against, or null for a config file. */
export type DiffResult = TrafficDiff & { readonly revision: number | null, readonly summary: string }

interface Edit { readonly text: string, readonly prefix?: string }

export class Operations {
  constructor (private readonly live: LiveConfig) {}

  /** Replaces the whole config. */
  async applyConfig (config: ConfigInput, opts: ChangeOptions): Promise<ChangeResult> {
    const text = this.#text(config)
    return await this.#change(opts, () => ({ text }))
  }

  /** Sets some of a route's default-split weights (see config/edit.ts for who takes up the difference). */
  async setWeights (route: string, weights: Readonly<Record<string, number>>, opts: ChangeOptions): Promise<ChangeResult> {
    return await this.#change(opts, text => setRouteWeights(text, route, weights))
  }

  /** Sends 100 % of a route's default split to one backend. */
  async promote (route: string, backend: string, opts: ChangeOptions): Promise<ChangeResult> {
    return await this.#change(opts, text => ({ ...promoteBackend(text, route, backend), prefix: `promote ${backend}: ` }))
  }

  /** Back to the revision before the one in force, as a new revision. */
  async rollback (opts: ChangeOptions): Promise<ChangeResult> {
    return await this.#change(opts, () => {
      const now = this.live.current.revision
      const previous = this.live.history.list().filter(e => e.revision < now).at(-1)
      if (previous === undefined) throw new SwitchyardError('SY_ERR_ADMIN_NO_PREVIOUS', `revision ${now} is the oldest in the history; nothing to roll back to`)
      return { text: previous.config, prefix: `rollback to revision ${previous.revision}: ` }
    }, true)
  }

  /** Back to any revision kept in the history, as a new revision. */
  async undo (toRevision: number, opts: ChangeOptions): Promise<ChangeResult> {
    return await this.#change(opts, () => {
      const entry = this.live.history.get(toRevision)
      if (entry === undefined) {
        throw new SwitchyardError('SY_ERR_ADMIN_UNKNOWN_REVISION', `revision ${toRevision} is not in the history (kept: ${this.live.history.list().map(e => e.revision).join(', ')})`)
      }
      return { text: entry.config, prefix: `undo to revision ${entry.revision}: ` }
    }, true)
  }

  /** Which route, rule and backend `request` gets from the running config, or from `candidate` (a dry run). */
  explain (request: SyntheticRequest, candidate?: ConfigInput): ExplainResult {
    if (candidate !== undefined) return explainIn(candidateTable(this.#text(candidate, 'yaml')), request, null)
    return explainIn(this.live.current.table, request, this.live.current.revision)
  }

  /** What applying `candidate` would change, and how much traffic would move. */
  diff (candidate: ConfigInput): DiffResult {
    const running = this.live.current
    return diffOf(running.table, candidateTable(this.#text(candidate, 'yaml')), running.revision)
  }

  async #change (opts: ChangeOptions, edit: (runningText: string) => Edit, readsHistory = false): Promise<ChangeResult> {
    const outcome = await this.live.exclusive(async () => {
      // A fleet's history is shared: rollback and undo read it as every replica does.
      if (readsHistory) await this.live.history.refresh()
      const running = this.live.current
      if (opts.expected !== undefined && !opts.expected.includes(running.revision)) {
        const read = opts.expected.length === 0 ? 'none that exists' : opts.expected.join(' or ')
        throw new SwitchyardError('SY_ERR_ADMIN_PRECONDITION',
          `the config is at revision ${running.revision}, not the one you read (${read}): someone else changed it; read it again`, { revision: running.revision })
      }
      const next = edit(running.text)
      return await this.live.writeAndApply(next.text, opts.origin, { prefix: next.prefix, force: opts.force === true })
    })
    if (outcome.result === 'failure') throw new ConfigError(outcome.problems)
    const running = this.live.current
    return {
      revision: running.revision,
      sha256: running.table.sha256,
      changed: outcome.result === 'success',
      summary: outcome.result === 'success' ? outcome.summary : 'no change: the result equals the running config'
    }
  }

  #text (config: ConfigInput, format = this.live.format): string {
    if (typeof config === 'string') return config
    return format === 'yaml' ? toYaml(config) : JSON.stringify(config, null, 2) + '\n'
  }
}

/** A config that is to be explained or compared, not applied; throws ConfigError with every problem. */
export function candidateTable (text: string): RoutingTable {
  const built = buildFromText(text)
  if (!built.ok) throw new ConfigError(built.problems)
  return built.table
}

/** The explanation of `request` under `table` (the service's, and the CLI's for a config file). */
export function explainIn (table: RoutingTable, request: SyntheticRequest, revision: number | null): ExplainResult {
  return { revision, ...explain(table, syntheticView(request)) }
}

/** What going from `before` to `after` changes (the service's, and the CLI's for two config files). */
export function diffOf (before: RoutingTable, after: RoutingTable, revision: number | null): DiffResult {
  return { revision, summary: summariseChange(before.config, after.config), ...trafficDiff(before, after) }
}
