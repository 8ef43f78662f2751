/**
 * `switchyard rollout … --store URL`: the rollout verbs on the fleet's store
 * itself, with no replica to ask (like the edit verbs' `--store`). The same
 * controller as a replica's, never leading: a command writes the rollout's
 * state with compare-and-swap and, for a step change, the routing as a
 * revision; the fleet's leader picks it up at its next look. A step change
 * reads the live replicas' counters first (the step's marks and threshold):
 * with none live it fails with SY_ERR_FLEET_COUNTERS before writing anything.
 */
import { pino } from 'pino'
import { tokenFromEnv } from '../admin/auth.js'
import { FleetCounters, fleetCountersReader } from '../control/fleet-counters.js'
import { LiveConfig } from '../control/live-config.js'
import { Operations } from '../control/operations.js'
import { RolloutController } from '../control/rollouts/controller.js'
import { FleetRolloutStore } from '../control/rollouts/store.js'
import { fleetSide } from '../control/sources/fleet-source.js'
import { openSource } from '../control/sources/open.js'
import { SwitchyardError } from '../errors.js'
import { parseStoreUrl } from '../fleet/store-url.js'
import { CliError } from './admin-client.js'

/** Runs `fn` on a controller over the store at `url`; coded errors become CLI errors (exit 1) with their code. */
export async function withStoreRollouts<T> (url: string, fn: (rollouts: RolloutController) => Promise<T>): Promise<T> {
  const source = await (async () => {
    parseStoreUrl(url)
    return await openSource(url, {})
  })().catch((err: unknown) => { throw new CliError((err as Error).message, 1) })
  const side = fleetSide(source)
  try {
    if (side === undefined) throw new CliError(`--store ${url}: not a fleet store`, 1)
    const logger = pino({ level: 'silent' })
    const live = new LiveConfig(source, undefined, logger)
    await live.start(await LiveConfig.load(source))
    const rollouts = new RolloutController({
      live,
      operations: new Operations(live),
      store: new FleetRolloutStore(side.store.rollouts),
      counters: fleetCountersReader(new FleetCounters({ members: async () => await side.store.members(), token: tokenFromEnv() })),
      logger,
      leadership: { isLeader: () => false }
    })
    return await fn(rollouts)
  } catch (err) {
    if (err instanceof SwitchyardError) throw new CliError(`${err.message} [${err.code}]`, 1, err.code)
    throw err
  } finally {
    await side?.store.close()
  }
}
