/**
 * What every RolloutStore must do (memory, file, etcd, Kubernetes): put is
 * compare-and-swap on the rollout's version, versions are per rollout and
 * opaque, and of two writers from the same version exactly one wins.
 */
import type { Test } from 'tap'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import type { RolloutStore } from '../../src/control/rollouts/store.js'

const state = (route: string, message: string): RolloutState => ({ route, message } as unknown as RolloutState)

export async function rolloutStoreCases (t: Test, store: RolloutStore): Promise<void> {
  t.same(await store.list(), [])
  t.equal(await store.get('web'), undefined)
  const one = await store.put(state('web', 'one'), undefined)
  t.type(one, 'string', 'a first put stores')
  t.equal(await store.put(state('web', 'lost'), undefined), undefined, 'a writer that read nothing loses once something is there')
  t.equal((await store.get('web'))?.version, one, 'get gives the version put returned')
  const two = await store.put(state('web', 'two'), one)
  t.type(two, 'string')
  t.not(two, one, 'every put changes the version')
  t.equal(await store.put(state('web', 'stale'), one), undefined, 'a stale version loses (a deposed leader\'s late write)')
  t.type(await store.put(state('api', 'other'), undefined), 'string', 'versions are per rollout')
  t.equal((await store.get('web'))?.state.message, 'two')
  // Two writers at once from the same version: exactly one wins.
  const results = await Promise.all([store.put(state('web', 'a'), two), store.put(state('web', 'b'), two)])
  t.equal(results.filter(v => v !== undefined).length, 1, 'exactly one of two racing writers wins')
  const won = results[0] === undefined ? 'b' : 'a'
  t.equal((await store.get('web'))?.state.message, won, 'the winner\'s state is kept')
  t.same((await store.list()).map(s => s.state.route).sort(), ['api', 'web'])
}
