/** The split of a config between a fleet's store (routing) and each replica's file (process settings). */
import t from 'tap'
import fc from 'fast-check'
import { parse, stringify } from 'yaml'
import { PROCESS_SETTINGS, processSettings, routingPart, withProcessSettings } from '../../src/config/process-settings.js'
import { holds } from '../helpers/property.js'

const routing = { backends: { stable: { targets: ['http://10.0.0.1:80'] } }, routes: [{ name: 'web', to: 'stable' }] }

t.test('the store gets the routing only; each replica reads it with its own listeners', async t => {
  const local = '# replica A\nlisten: { host: 0.0.0.0, port: 8080 }\nadmin: { port: 9901 }\nlog: { level: warn }\n' + stringify(routing)
  const shared = routingPart(local)
  t.same(parse(shared), routing, 'routingPart drops listen, admin, log')
  t.same(processSettings(local), { listen: { host: '0.0.0.0', port: 8080 }, admin: { port: 9901 }, log: { level: 'warn' } })
  const read = withProcessSettings('# shared\n' + shared, processSettings(local))
  t.same(parse(read), { ...processSettings(local), ...routing }, 'the replica reads the routing with its own settings')
  t.match(read, /^listen:/, 'process settings first')
  t.match(read, '# shared', 'comments of the shared routing are kept')
  t.same(parse(withProcessSettings(stringify({ admin: { port: 1 }, ...routing }), { admin: { port: 2 } })), { admin: { port: 2 }, ...routing }, "settings in the store's text give way to the replica's")
  t.equal(withProcessSettings(shared, {}), shared, 'no local settings: the text as stored')
  t.equal(routingPart('not: [valid'), 'not: [valid', 'a text that does not parse is left for validation to report')
  t.same(processSettings(undefined), {})
})

t.test('splitting and joining again gives the same config, whatever the fields', async t => {
  const value = fc.oneof(fc.integer(), fc.string(), fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
  const settings = fc.dictionary(fc.constantFrom(...PROCESS_SETTINGS), value, { maxKeys: PROCESS_SETTINGS.length })
  const others = fc.dictionary(fc.constantFrom('backends', 'routes', 'proxy', 'revisionHistoryLimit'), value, { minKeys: 1 })
  holds(t, fc.property(settings, others, (s, o) => {
    const text = stringify({ ...s, ...o })
    const joined = parse(withProcessSettings(routingPart(text), processSettings(text))) as Record<string, unknown>
    return JSON.stringify(Object.keys(parse(routingPart(text)) as object).sort()) === JSON.stringify(Object.keys(o).sort()) &&
      JSON.stringify(joined, Object.keys(joined).sort()) === JSON.stringify({ ...s, ...o }, Object.keys(joined).sort())
  }))
})
