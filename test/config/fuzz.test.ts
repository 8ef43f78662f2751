/**
 * Config fuzzing (fast-check): valid configs mutated at random — wrong
 * types, missing and unknown fields, huge numbers, bad regexes and
 * durations, fallback cycles, truncated or bit-flipped text — always give
 * either a valid, compilable config or located problems with known codes;
 * never a crash. Against a running switchyard, the last good config keeps
 * serving through a stream of bad files.
 */
import t from 'tap'
import fc from 'fast-check'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { buildFromText } from '../../src/routing/build.js'
import { decide } from '../../src/routing/decide.js'
import { explain, syntheticView } from '../../src/routing/explain.js'
import { ErrorCodes } from '../../src/errors.js'
import { holds } from '../helpers/property.js'
import { fixedEntropy, view } from '../helpers/tables.js'
import { startBackend } from '../helpers/backends.js'
import { startWith, withTestDefaults } from '../helpers/switchyard.js'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const BASE: Json = {
  listen: { host: '127.0.0.1', port: 0, headersTimeout: '10s' },
  admin: { host: '127.0.0.1', port: 0 },
  shutdown: { drainDelay: '1s', timeout: '5s' },
  backends: {
    stable: { version: '0.5', targets: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'], balance: 'least-pending' },
    canary: { version: '0.6', targets: ['http://127.0.0.1:9003'], fallback: 'stable', healthCheck: { path: '/healthz', interval: '5s' }, outlierDetection: { consecutiveFailures: 3 } }
  },
  routes: [
    {
      name: 'testpage',
      match: { host: ['a.test', '*.b.test'], path: { prefix: '/' }, methods: ['GET', 'POST'] },
      rules: [
        { name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' },
        { name: 'optout', when: { cookies: { canary: { in: ['never', 'no'] } } }, to: 'stable' },
        { name: 'mobile', when: { userAgent: { regex: 'Android|iPhone' }, query: { v: { present: true } } }, split: { stable: 50, canary: 50 } }
      ],
      split: { stable: 90, canary: 10 },
      sticky: { cookie: 'sy_id', maxAge: '1h' },
      timeout: '5s',
      retries: { attempts: 1 }
    }
  ]
}

type Path = Array<string | number>

function paths (v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix]
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]))
  return out
}

const ALL_PATHS = paths(BASE).filter(p => p.length > 0)

const nasty: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, '', ' ', '(', '[a-', '*', '30 seconds', '-5s', '1e9h',
    'http://', 'ftp://x', 'x'.repeat(5000), 'canry', 'stable', 'canary', '/', {}, [], [null], { exact: 'x', prefix: 'y' }, { regex: '(?<' }),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.jsonValue().map(v => v as Json)
)

type Mutation =
  | { op: 'set', path: Path, value: Json }
  | { op: 'delete', path: Path }
  | { op: 'rename', path: Path, to: string }
  | { op: 'add', path: Path, key: string, value: Json }
  | { op: 'cycle' }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...ALL_PATHS), value: nasty }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...ALL_PATHS) }),
  fc.record({ op: fc.constant('rename' as const), path: fc.constantFrom(...ALL_PATHS), to: fc.string({ minLength: 1, maxLength: 12 }) }),
  fc.record({ op: fc.constant('add' as const), path: fc.constantFrom([] as Path, ...ALL_PATHS), key: fc.string({ minLength: 1, maxLength: 12 }), value: nasty }),
  fc.constant({ op: 'cycle' as const })
)

function apply (base: Json, m: Mutation): Json {
  const root = structuredClone(base)
  if (m.op === 'cycle') {
    const b = (root as { backends?: Record<string, Record<string, Json> | null> }).backends
    const stable = b?.stable
    if (stable !== null && typeof stable === 'object' && !Array.isArray(stable)) stable.fallback = 'canary'
    return root
  }
  const parentPath = m.op === 'add' ? m.path : m.path.slice(0, -1)
  let parent: Json = root
  for (const k of parentPath) {
    if (parent === null || typeof parent !== 'object') return root
    parent = (parent as Record<string | number, Json>)[k as never] ?? null
  }
  if (parent === null || typeof parent !== 'object') return root
  const container = parent as Record<string | number, Json>
  const key = m.path.at(-1) as string | number
  switch (m.op) {
    case 'set': container[key] = m.value; break
    case 'delete': if (Array.isArray(container)) container.splice(Number(key), 1); else delete container[key]; break
    case 'rename': if (!Array.isArray(container) && key in container) { container[m.to] = container[key] as Json; delete container[key] } break
    case 'add': if (!Array.isArray(container)) container[m.key] = m.value; break
  }
  return root
}

const KNOWN_CODES = new Set(Object.keys(ErrorCodes))

/** The property: valid and compiled (and routable), or located problems with known codes. */
function checkText (text: string): boolean {
  const built = buildFromText(text)
  if (built.ok) {
    for (const req of [view(), view({ host: 'a.test', headers: { 'x-canary': 'always' } }), view({ host: 'x.b.test', cookies: { sy_id: 'u1' } })]) {
      decide(built.table, req, fixedEntropy())
      explain(built.table, syntheticView({ host: req.host, path: req.path }))
    }
    return true
  }
  return built.problems.length > 0 && built.problems.every(p =>
    KNOWN_CODES.has(p.code) && typeof p.path === 'string' && typeof p.message === 'string' && p.message.length > 0 &&
    (p.line === undefined || (Number.isInteger(p.line) && p.line >= 1)))
}

t.test('the base config is valid', async t => {
  t.equal(buildFromText(stringify(BASE)).ok, true)
})

t.test('random mutations: a valid config or located problems, never a crash', async t => {
  holds(t, fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), ms => {
    const mutated = ms.reduce(apply, BASE)
    return checkText(stringify(mutated)) && checkText(JSON.stringify(mutated))
  }), { numRuns: 1500 })
})

t.test('a fallback cycle is a located error', async t => {
  const built = buildFromText(stringify(apply(BASE, { op: 'cycle' })))
  t.same(built.ok ? [] : built.problems.map(p => [p.code, p.path]), [['SY_ERR_CONFIG_FALLBACK_CYCLE', 'backends.stable.fallback']])
})

t.test('damaged text (truncated, bytes flipped or inserted): problems, never a crash', async t => {
  const text = stringify(BASE)
  holds(t, fc.property(fc.nat({ max: text.length }), fc.nat({ max: text.length }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('truncate', 'flip', 'insert'), (at, len, byte, how) => {
    let damaged = text
    if (how === 'truncate') damaged = text.slice(0, at)
    else if (how === 'flip') damaged = text.slice(0, at) + String.fromCharCode(byte) + text.slice(at + 1)
    else damaged = text.slice(0, at) + String.fromCharCode(byte).repeat(1 + (len % 8)) + text.slice(at)
    return checkText(damaged)
  }), { numRuns: 3000 })
})

t.test('a running switchyard keeps serving its last good config through a stream of bad files', async t => {
  const stable = await startBackend('stable')
  const canary = await startBackend('canary')
  const good = withTestDefaults({
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'r', rules: [{ name: 'beta', when: { headers: { 'x-canary': { present: true } } }, to: 'canary' }], to: 'stable' }]
  }) as Json
  const p = await startWith(stringify(good))
  t.teardown(async () => { await p.close(); await stable.close(); await canary.close() })
  await p.sy.live.stopWatching() // reloads below are explicit, one per file
  const goodPaths = paths(good).filter(x => x.length > 0)
  const samples = fc.sample(fc.array(fc.oneof(
    fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...goodPaths), value: nasty }),
    fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...goodPaths) })
  ), { minLength: 1, maxLength: 3 }), { numRuns: 60, seed: 42 })
  let applied = 0
  let rejected = 0
  for (const ms of samples) {
    const mutated = ms.reduce(apply, good)
    await writeFile(p.configPath, stringify(mutated))
    const before = p.sy.live.current.revision
    const outcome = await p.sy.live.reload('sighup')
    if (outcome.result === 'failure') {
      rejected++
      t.equal(p.sy.live.current.revision, before, 'a rejected file changes nothing')
      const plain = await p.get('/')
      const beta = await p.get('/', { 'x-canary': '1' })
      if (plain.headers['x-backend'] !== 'stable' || beta.headers['x-backend'] !== 'canary') t.fail('the last good config stopped serving')
    } else {
      applied++
    }
    // Back to the good config before the next mutation.
    await writeFile(p.configPath, stringify(good))
    await p.sy.live.reload('sighup')
  }
  t.ok(rejected > 20, `${rejected} bad files rejected, ${applied} valid mutants applied`)
  t.equal((await p.get('/')).status, 200, 'still serving')
})
