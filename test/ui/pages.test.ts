/**
 * The Fleet and Rollouts pages' rules without a browser: the fleet view of
 * a status payload (a single instance, a fleet with a replica behind, the
 * store out of reach, no leader), the commands each rollout phase allows,
 * the steps with where a rollout stands, the start form's percent lists,
 * what a command's outcome says, and how the judge's statistics are written.
 */
import t from 'tap'
import fc from 'fast-check'
import { holds } from '../helpers/property.js'
import { fleetView } from '../../ui/src/fleet-view.js'
import { fmtStat } from '../../ui/src/format.js'
import { commandsFor, outcomeOf, parsePercentList, stepsOf } from '../../ui/src/rollout-view.js'
import type { Replica, Rollout, Status } from '../../ui/src/types.js'

const base: Status = {
  revision: 7,
  sha256: 'x',
  loadedAt: '2026-12-01T06:00:00.000Z',
  source: 'api',
  configFile: '/etc/switchyard.yaml',
  lastReloadError: null,
  routes: [],
  backends: []
}
const store = { location: 'kubernetes://fleet/routes', connected: true, stale: false, lastSyncAt: '2026-12-01T06:00:01.000Z', lastSyncAgeSeconds: 1, error: null }
const replica = (id: string, revision: number, self = false): Replica => ({ id, adminUrl: `http://${id}:9901`, revision, syncedAt: '2026-12-01T06:00:00.000Z', self })

t.test('a single instance is a fleet of one that leads itself', async t => {
  const v = fleetView(base, 'http://127.0.0.1:9901')
  t.same(v, {
    shared: false,
    store: null,
    revision: 7,
    leader: 'this instance',
    members: [{ id: 'this instance', adminUrl: 'http://127.0.0.1:9901', revision: 7, syncedAt: base.loadedAt, self: true, leader: true, stale: null }],
    problem: null
  })
})

t.test('a fleet: the replica asked first, the leader marked, a replica behind the fleet flagged stale', async t => {
  const v = fleetView({ ...base, store, leader: 'b', replicas: [replica('c', 6), replica('b', 7), replica('a', 7, true)] }, 'http://a:9901')
  t.equal(v.shared, true)
  t.equal(v.revision, 7)
  t.same(v.members.map(m => [m.id, m.self, m.leader, m.stale]), [
    ['a', true, false, null],
    ['b', false, true, null],
    ['c', false, false, 'behind: applies revision 6, the fleet is at 7']
  ])
  t.equal(v.problem, null)
})

t.test('the replica asked is behind: the fleet is at the newest revision a member applies', async t => {
  const v = fleetView({ ...base, revision: 5, store, leader: 'b', replicas: [replica('a', 5, true), replica('b', 6)] }, 'http://a:9901')
  t.equal(v.revision, 6)
  t.same(v.members.map(m => m.stale), ['behind: applies revision 5, the fleet is at 6', null])
})

t.test('the store out of reach: the replica asked is stale, and is shown even when the members cannot be listed', async t => {
  const down = { ...store, connected: false, stale: true, error: 'connect ECONNREFUSED' }
  const listed = fleetView({ ...base, store: down, leader: 'a', replicas: [replica('a', 7, true), replica('b', 7)] }, 'http://a:9901')
  t.same(listed.members.map(m => m.stale), ['the store is out of reach (connect ECONNREFUSED): serving its last good revision', null])
  const unlisted = fleetView({ ...base, store: down, leader: null, replicas: null }, 'http://a:9901')
  t.same(unlisted.members.map(m => [m.id, m.adminUrl, m.revision, m.self, m.stale !== null]), [['this replica', 'http://a:9901', 7, true, true]])
  t.equal(unlisted.problem, 'the store cannot be asked for its members: only this replica is shown')
})

t.test('no leader is said', async t => {
  const v = fleetView({ ...base, store, leader: null, replicas: [replica('a', 7, true)] }, 'http://a:9901')
  t.same([v.leader, v.members[0]?.leader], [null, false])
  t.match(v.problem, /^no leader/)
})

t.test('for every fleet: one member per replica (and the one asked), at most one leader, stale exactly when behind or cut off', async t => {
  const rep = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd'), revision: fc.integer({ min: 1, max: 9 }) })
  holds(t, fc.property(fc.uniqueArray(rep, { selector: r => r.id, maxLength: 4 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.option(fc.constantFrom('a', 'b', 'x'), { nil: null }), (reps, own, cut, leader) => {
    const replicas = reps.map((r, i) => replica(r.id, i === 0 ? own : r.revision, i === 0))
    const v = fleetView({ ...base, revision: own, store: { ...store, stale: cut }, leader, replicas }, 'http://self')
    const newest = Math.max(own, ...replicas.map(r => r.revision))
    return v.members.length === Math.max(1, replicas.length) &&
      v.members.filter(m => m.self).length === 1 &&
      v.members.filter(m => m.leader).length <= 1 &&
      v.members.every(m => (m.stale !== null) === ((m.self && cut) || m.revision < newest))
  }))
})

const rollout = (over: Partial<Rollout>): Rollout => ({
  route: 'web',
  canary: 'canary',
  baseline: 'stable',
  steps: [10, 50, 100],
  pauseAt: [50],
  startWeights: { stable: 100, canary: 0 },
  startRevision: 3,
  phase: 'Progressing',
  message: '',
  step: { index: 1, startedAt: 0 },
  weight: 50,
  decisions: [],
  createdAt: '2026-12-01T06:00:00.000Z',
  updatedAt: '2026-12-01T06:00:00.000Z',
  ...over
})

t.test('the commands each phase allows, as the controller does', async t => {
  t.same(commandsFor('Progressing'), ['pause', 'promote', 'abort'])
  t.same(commandsFor('Paused'), ['resume', 'promote', 'abort'])
  t.same(commandsFor('Succeeded'), [])
  t.same(commandsFor('Aborted'), [])
})

t.test('steps: behind, current, ahead, and the manual gates', async t => {
  t.same(stepsOf(rollout({})), [{ percent: 10, gate: false, state: 'done' }, { percent: 50, gate: true, state: 'current' }, { percent: 100, gate: false, state: 'next' }])
  t.same(stepsOf(rollout({ phase: 'Paused' })).map(s => s.state), ['done', 'current', 'next'])
  t.same(stepsOf(rollout({ phase: 'Aborted' })).map(s => s.state), ['done', 'next', 'next'], 'an aborted rollout has no current step')
  t.same(stepsOf(rollout({ phase: 'Succeeded', step: { index: 2, startedAt: 0 } })).map(s => s.state), ['done', 'done', 'done'])
})

t.test('the start form\'s percent lists', async t => {
  t.same(parsePercentList('5, 25 50,100'), { values: [5, 25, 50, 100], bad: [] })
  t.same(parsePercentList(' 12.5%, 50% '), { values: [12.5, 50], bad: [] })
  t.same(parsePercentList(''), { values: [], bad: [] })
  t.same(parsePercentList('5, x, -3'), { values: [5], bad: ['x', '-3'] })
})

t.test('what a command did, and a promote that found the rollout moved on', async t => {
  const before = rollout({ step: { index: 0, startedAt: 0 }, weight: 10 })
  t.equal(outcomeOf('pause', before, rollout({ phase: 'Paused', pauseReason: 'manual', step: { index: 0, startedAt: 0 }, weight: 10 })), 'pause web: now Paused (manual), step 1/3, canary at 10 %')
  t.equal(outcomeOf('promote', before, rollout({})), 'promote web: now Progressing, step 2/3, canary at 50 %')
  t.equal(outcomeOf('promote', before, rollout({ step: { index: 2, startedAt: 0 }, weight: 100 })), 'promote web: now Progressing, step 3/3, canary at 100 % (the page showed step 1: the rollout moved meanwhile)')
  t.equal(outcomeOf('promote', before, rollout({ phase: 'Succeeded', step: { index: 2, startedAt: 0 }, weight: 100 })), 'promote web: now Succeeded, step 3/3, canary at 100 %', 'a full promote ends it')
  t.equal(outcomeOf('abort', before, rollout({ phase: 'Aborted', abortReason: 'manual', weight: 0 })), 'abort web: now Aborted (manual), step 2/3, canary at 0 %')
})

t.test('the judge\'s statistics', async t => {
  const cases: Array<[number | undefined, string]> = [[0.05, '0.05'], [0.5, '0.5'], [1, '1'], [0.0123456, '0.0123'], [2.71828, '2.72'], [12345, '12300'], [1.7976931348623157e308, '1.8e+308'], [0.00002, '2.0e-5'], [0, '0'], [undefined, '–'], [NaN, '–']]
  for (const [x, want] of cases) t.equal(fmtStat(x), want, String(x))
})
