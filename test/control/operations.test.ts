/**
 * The operations service without sockets: the control plane over an
 * in-memory config source and a recording plane link. Each operation's
 * revision, summary, history and the text it leaves in the source; the
 * expected-revision check; every refusal as a coded domain error.
 */
import t, { type Test } from 'tap'
import { pino } from 'pino'
import { parse, stringify } from 'yaml'
import { LiveConfig } from '../../src/control/live-config.js'
import { Operations, type ChangeOptions } from '../../src/control/operations.js'
import { MemorySource } from '../../src/control/sources/memory.js'
import { ConfigError, SwitchyardError } from '../../src/errors.js'
import type { ConfigUpdate } from '../../src/link/link.js'

const CLI: ChangeOptions = { origin: 'cli' }

function configText (split: Record<string, number>): string {
  return '# kept\n' + stringify({
    backends: { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } },
    routes: [{ name: 'web', split, sticky: { cookie: 'sy_id' } }]
  })
}

async function service (text = configText({ stable: 90, canary: 10 })): Promise<{ ops: Operations, live: LiveConfig, source: MemorySource, applied: number[] }> {
  const source = new MemorySource('memory', text)
  const applied: number[] = []
  const plane = { apply: async (u: ConfigUpdate) => { applied.push(u.revision) } }
  const live = new LiveConfig(source, plane, pino({ level: 'silent' }))
  await live.start(await LiveConfig.load(source))
  return { ops: new Operations(live), live, source, applied }
}

const splitOf = (text: string): unknown => (parse(text) as { routes: Array<{ split: unknown }> }).routes[0]?.split

/** The coded error a call throws (fails the test when it throws none). */
async function codeOf (t: Test, p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    t.type(err, SwitchyardError, 'a coded domain error, not an HTTP one')
    t.notOk('status' in (err as object), 'no HTTP status on a domain error')
    return (err as SwitchyardError).code
  }
  t.fail('expected an error')
  return ''
}

t.test('each change is a revision: served, written, recorded', async t => {
  const { ops, live, source, applied } = await service()
  t.same(applied, [1], 'the start revision was sent to the data planes')

  t.same(await ops.setWeights('web', { canary: 25 }, CLI), { revision: 2, sha256: live.current.table.sha256, changed: true, summary: 'web: stable 90→75, canary 10→25' })
  t.same(splitOf(source.text), { stable: 75, canary: 25 })
  t.ok(source.text.startsWith('# kept\n'), 'comments survive')

  t.equal((await ops.promote('web', 'canary', CLI)).summary, 'promote canary: web: stable 75→0, canary 25→100')
  t.equal((await ops.rollback(CLI)).summary, 'rollback to revision 2: web: stable 0→75, canary 100→25')
  const undo = await ops.undo(1, CLI)
  t.same([undo.revision, undo.summary], [5, 'undo to revision 1: web: stable 75→90, canary 25→10'])
  t.equal(source.text, configText({ stable: 90, canary: 10 }), 'undo restores the exact text')

  const whole = await ops.applyConfig({ backends: { only: { targets: ['http://10.0.0.9:80'] } }, routes: [{ name: 'web', to: 'only' }] }, { origin: 'api' })
  t.same([whole.revision, whole.summary], [6, 'web: split stable 90, canary 10 → to only, sticky changed; backend only added; backend stable removed; backend canary removed'])
  t.match(source.text, /^backends:\n {2}only:/, 'an object is written in the source\'s format (YAML)')

  t.same(applied, [1, 2, 3, 4, 5, 6], 'every revision reached the data planes, in order')
  t.same(live.history.list().map(e => [e.revision, e.source]), [[1, 'start'], [2, 'cli'], [3, 'cli'], [4, 'cli'], [5, 'cli'], [6, 'api']])
})

t.test('a change that leaves the config as it is: no revision', async t => {
  const { ops, applied } = await service()
  t.same(await ops.setWeights('web', { canary: 10 }, CLI), { revision: 1, sha256: (await ops.setWeights('web', { canary: 10 }, CLI)).sha256, changed: false, summary: 'no change: the result equals the running config' })
  t.same(applied, [1])
})

t.test('the expected revision: one of those read must be in force', async t => {
  const { ops, source } = await service()
  await ops.setWeights('web', { canary: 20 }, { origin: 'api', expected: [1] })
  const before = source.text
  t.equal(await codeOf(t, ops.setWeights('web', { canary: 50 }, { origin: 'api', expected: [1] })), 'SY_ERR_ADMIN_PRECONDITION')
  const err = await ops.rollback({ origin: 'api', expected: [] }).catch((e: unknown) => e) as SwitchyardError
  t.same([err.code, err.details], ['SY_ERR_ADMIN_PRECONDITION', { revision: 2 }], 'the refusal says which revision is in force')
  t.equal(source.text, before, 'the losers changed nothing')
  t.equal((await ops.setWeights('web', { canary: 30 }, { origin: 'api', expected: [1, 2] })).revision, 3, 'a list matches when one does')
})

t.test('refusals are coded and change nothing', async t => {
  const { ops, live, source } = await service()
  const before = source.text
  t.equal(await codeOf(t, ops.setWeights('nope', { canary: 5 }, CLI)), 'SY_ERR_ADMIN_UNKNOWN_ROUTE')
  t.equal(await codeOf(t, ops.promote('nope', 'canary', CLI)), 'SY_ERR_ADMIN_UNKNOWN_ROUTE')
  t.equal(await codeOf(t, ops.setWeights('web', { canary: -1 }, CLI)), 'SY_ERR_ADMIN_BAD_REQUEST')
  t.equal(await codeOf(t, ops.rollback(CLI)), 'SY_ERR_ADMIN_NO_PREVIOUS')
  t.equal(await codeOf(t, ops.undo(42, CLI)), 'SY_ERR_ADMIN_UNKNOWN_REVISION')
  const invalid = await ops.setWeights('web', { green: 5 }, CLI).catch((e: unknown) => e)
  t.type(invalid, ConfigError)
  t.same((invalid as ConfigError).problems.map(p => [p.code, p.path]), [['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[0].split.green']])
  t.equal(await codeOf(t, ops.applyConfig('routes: [ {', CLI)), 'SY_ERR_CONFIG_INVALID')
  t.equal(source.text, before)
  t.equal(live.current.revision, 1)
})

t.test('explain and diff: the running config, or a candidate', async t => {
  const { ops } = await service()
  const running = ops.explain({ cookies: { sy_id: 'u1' } })
  t.equal(running.revision, 1)
  t.equal(running.route, 'web')
  const dry = ops.explain({ cookies: { sy_id: 'u1' } }, configText({ stable: 0, canary: 1 }))
  t.same([dry.revision, dry.backend], [null, 'canary'], 'a candidate is explained, not applied')
  const diff = ops.diff(configText({ stable: 75, canary: 25 }))
  t.equal(diff.summary, 'web: stable 90→75, canary 10→25')
  t.same(diff.changed.map(c => [c.route, c.part, c.moves.map(m => [m.from, m.to])]), [['web', 'default', [['stable', 'canary']]]])
  t.throws(() => ops.diff('routes: [ {'), ConfigError)
})
