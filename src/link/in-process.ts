/** The plane link to a data plane in this process: method calls, no copies. */
import { EventEmitter } from 'node:events'
import { listenAddress, type DataPlane } from '../dataplane/plane.js'
import type { ConfigUpdate, PlaneLink, PlaneMetrics, PlaneLinkEvents, Readiness, TargetState } from './link.js'

export class InProcessLink extends EventEmitter<PlaneLinkEvents> implements PlaneLink {
  constructor (readonly plane: DataPlane) {
    super()
    plane.on('health', event => this.emit('health', event))
  }

  async apply (update: ConfigUpdate): Promise<void> {
    this.plane.apply(update.table, update.revision)
  }

  async start (): Promise<string> {
    const { host, port } = listenAddress(this.plane.store.current.table)
    const url = await this.plane.listen(host, port)
    this.emit('listening', url)
    return url
  }

  readiness (): Readiness {
    const { plane } = this
    if (plane.draining) return { ready: false, reason: 'draining' }
    if (!plane.listening) return { ready: false, reason: 'starting' }
    return { ready: true, reason: '' }
  }

  async targets (): Promise<TargetState[]> {
    return this.plane.targets()
  }

  async metrics (): Promise<PlaneMetrics[]> {
    return []
  }

  async stop (drain: boolean): Promise<void> {
    await this.plane.stop(drain ? this.plane.settings.drainDelayMs : 0)
  }
}
