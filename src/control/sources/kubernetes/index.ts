/** `kubernetes://…` as a config source: a fleet's routing store (see ../fleet-source.ts and src/fleet/store-url.ts). */
import { openStore } from '../../../fleet/open-store.js'
import type { ConfigSource } from '../../source.js'
import { fleetSource } from '../fleet-source.js'
import type { SourceOptions } from '../open.js'

export function createSource (location: string, opts: SourceOptions): ConfigSource {
  return fleetSource(openStore(location), opts)
}
