/**
 * Config validation: every problem is found, with its code, its path and
 * its line; unknown fields are errors; the example is valid.
 */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { buildFromFile, buildFromText } from '../../src/routing/build.js'
import { validateConfig, formatPath } from '../../src/config/validate.js'
import { formatProblem, type ConfigProblem } from '../../src/errors.js'
import { parseDuration, formatDuration } from '../../src/util/duration.js'

const fixture = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname

function problemsOf (config: unknown): ConfigProblem[] {
  const r = validateConfig(config)
  return r.ok ? [] : r.problems
}

const base = {
  backends: { stable: { targets: ['http://127.0.0.1:9001'] }, canary: { targets: ['http://127.0.0.1:9003'] } },
  routes: [{ name: 'r', split: { stable: 90, canary: 10 } }]
}

function withRoute (route: Record<string, unknown>): unknown {
  return { ...base, routes: [{ name: 'r', ...route }] }
}

t.test('the shipped default config (the issue example) is valid', async t => {
  const built = await buildFromFile(new URL('../../config/switchyard.yaml', import.meta.url).pathname)
  t.equal(built.ok, true)
  if (built.ok) {
    t.same(built.table.routes.map(r => r.name), ['testpage'])
    t.same(built.table.backends.map(b => [b.name, b.version, b.targets.length]), [['stable', '0.5', 2], ['canary', '0.6', 1]])
    t.same(built.table.routes[0]?.rules.map(r => r.name), ['beta-header', 'opt-out', 'mobile'])
  }
})

t.test('every problem is reported with code, path and line', async t => {
  const built = await buildFromFile(fixture('bad-many.yaml'))
  t.equal(built.ok, false)
  if (built.ok) return
  // One run reports the schema problems and the semantic ones of the rest of the file.
  t.same(built.problems.map(p => [p.code, p.path, p.line]), [
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].splt', 11],
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].split.stable', 19],
    ['SY_ERR_CONFIG_TARGET_URL', 'backends.canary.targets[0]', 8],
    ['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[0].rules[0].to', 15],
    ['SY_ERR_CONFIG_REGEX', 'routes[0].rules[1].when.userAgent.regex', 17]
  ])
  t.match(built.problems[0]?.message, /unknown field "splt"/)
  t.equal(built.problems[1]?.message, 'must be >= 0')
  t.equal(formatProblem(built.problems[1] as ConfigProblem, 'x.yaml'), 'x.yaml:19:14: routes[0].split.stable: must be >= 0 [SY_ERR_CONFIG_SCHEMA]')
})

t.test('semantic problems: unknown backend with a suggestion, bad regex, bad target URL', async t => {
  const text = (await readFile(fixture('bad-many.yaml'), 'utf8')).replace('    splt: { stable: 90 }\n', '').replace('stable: -1', 'stable: 1')
  const built = buildFromText(text)
  t.equal(built.ok, false)
  if (built.ok) return
  t.same(built.problems.map(p => [p.code, p.path, p.line]), [
    ['SY_ERR_CONFIG_TARGET_URL', 'backends.canary.targets[0]', 8],
    ['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[0].rules[0].to', 14],
    ['SY_ERR_CONFIG_REGEX', 'routes[0].rules[1].when.userAgent.regex', 16]
  ])
  t.equal(built.problems[1]?.message, 'unknown backend "canry" (did you mean "canary"?)')
})

t.test('YAML syntax errors carry a line', async t => {
  const built = await buildFromFile(fixture('bad-yaml.yaml'))
  t.equal(built.ok, false)
  if (built.ok) return
  t.equal(built.problems[0]?.code, 'SY_ERR_CONFIG_PARSE')
  t.type(built.problems[0]?.line, 'number')
})

t.test('missing file', async t => {
  const built = await buildFromFile('/nonexistent/switchyard.yaml')
  t.same(built.ok ? [] : built.problems.map(p => p.code), ['SY_ERR_CONFIG_READ'])
})

t.test('JSON is accepted too', async t => {
  const built = buildFromText(JSON.stringify(base))
  t.equal(built.ok, true)
})

interface Case { desc: string, config: unknown, expected: Array<[string, string]> }

const cases: Case[] = [
  { desc: 'not a mapping', config: [1, 2], expected: [['SY_ERR_CONFIG_SCHEMA', '']] },
  { desc: 'no routes', config: { backends: base.backends, routes: [] }, expected: [['SY_ERR_CONFIG_SCHEMA', 'routes']] },
  { desc: 'no backends field', config: { routes: base.routes }, expected: [['SY_ERR_CONFIG_SCHEMA', '']] },
  { desc: 'unknown top-level field', config: { ...base, backend: {} }, expected: [['SY_ERR_CONFIG_SCHEMA', 'backend']] },
  { desc: 'all weights 0', config: withRoute({ split: { stable: 0, canary: 0 } }), expected: [['SY_ERR_CONFIG_ZERO_WEIGHTS', 'routes[0].split']] },
  { desc: 'negative weight', config: withRoute({ split: { stable: -1, canary: 1 } }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].split.stable']] },
  { desc: 'fractional weight', config: withRoute({ split: { stable: 1.5, canary: 1 } }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].split.stable']] },
  { desc: 'split names an unknown backend', config: withRoute({ split: { stable: 1, green: 1 } }), expected: [['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[0].split.green']] },
  { desc: 'both to and split', config: withRoute({ to: 'stable', split: { stable: 1 } }), expected: [['SY_ERR_CONFIG_TARGET', 'routes[0]']] },
  { desc: 'neither to nor split', config: withRoute({}), expected: [['SY_ERR_CONFIG_TARGET', 'routes[0]']] },
  { desc: 'rule without destination', config: withRoute({ to: 'stable', rules: [{ name: 'x', when: {} }] }), expected: [['SY_ERR_CONFIG_TARGET', 'routes[0].rules[0]']] },
  { desc: 'rule named split', config: withRoute({ to: 'stable', rules: [{ name: 'split', when: {}, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_DUPLICATE_NAME', 'routes[0].rules[0].name']] },
  { desc: 'duplicate rule names', config: withRoute({ to: 'stable', rules: [{ name: 'a', when: {}, to: 'canary' }, { name: 'a', when: {}, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_DUPLICATE_NAME', 'routes[0].rules[1].name']] },
  { desc: 'duplicate route names', config: { ...base, routes: [{ name: 'r', to: 'stable' }, { name: 'r', to: 'canary' }] }, expected: [['SY_ERR_CONFIG_DUPLICATE_NAME', 'routes[1].name']] },
  { desc: 'operator typo', config: withRoute({ to: 'stable', rules: [{ name: 'a', when: { headers: { 'x-a': { exactly: '1' } } }, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].rules[0].when.headers.x-a.exactly']] },
  { desc: 'two operators in one match', config: withRoute({ to: 'stable', rules: [{ name: 'a', when: { cookies: { c: { exact: '1', prefix: '1' } } }, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].rules[0].when.cookies.c']] },
  { desc: 'bad path regex', config: withRoute({ to: 'stable', match: { path: { regex: '(' } } }), expected: [['SY_ERR_CONFIG_REGEX', 'routes[0].match.path.regex']] },
  { desc: 'nested quantifier in a path regex (ReDoS)', config: withRoute({ to: 'stable', match: { path: { regex: '^/(a+)+$' } } }), expected: [['SY_ERR_CONFIG_REGEX_UNSAFE', 'routes[0].match.path.regex']] },
  { desc: 'nested quantifier in a user-agent regex', config: withRoute({ to: 'stable', rules: [{ name: 'r', when: { userAgent: { regex: '(\\w+\\s?)*$' } }, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_REGEX_UNSAFE', 'routes[0].rules[0].when.userAgent.regex']] },
  { desc: 'nested quantifier in a header regex', config: withRoute({ to: 'stable', rules: [{ name: 'r', when: { headers: { 'x-a': { regex: '(.*,)*x' } } }, to: 'canary' }] }), expected: [['SY_ERR_CONFIG_REGEX_UNSAFE', 'routes[0].rules[0].when.headers.x-a.regex']] },
  { desc: 'path prefix must start with /', config: withRoute({ to: 'stable', match: { path: { prefix: 'api' } } }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].match.path.prefix']] },
  { desc: 'bad duration', config: withRoute({ to: 'stable', timeout: '30 seconds' }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].timeout']] },
  { desc: 'sticky with both keys', config: withRoute({ to: 'stable', sticky: { cookie: 'a', header: 'b' } }), expected: [['SY_ERR_CONFIG_STICKY', 'routes[0].sticky']] },
  { desc: 'sticky with no key', config: withRoute({ to: 'stable', sticky: {} }), expected: [['SY_ERR_CONFIG_STICKY', 'routes[0].sticky']] },
  { desc: 'target with a path', config: { ...base, backends: { ...base.backends, stable: { targets: ['http://127.0.0.1:9001/app'] } } }, expected: [['SY_ERR_CONFIG_TARGET_URL', 'backends.stable.targets[0]']] },
  { desc: 'target not a URL', config: { ...base, backends: { ...base.backends, stable: { targets: ['127.0.0.1:9001'] } } }, expected: [['SY_ERR_CONFIG_TARGET_URL', 'backends.stable.targets[0]']] },
  { desc: 'no targets', config: { ...base, backends: { ...base.backends, stable: { targets: [] } } }, expected: [['SY_ERR_CONFIG_SCHEMA', 'backends.stable.targets']] },
  { desc: 'bad backend name', config: { ...base, backends: { ...base.backends, 'has space': { targets: ['http://127.0.0.1:1'] } } }, expected: [['SY_ERR_CONFIG_SCHEMA', 'backends["has space"]']] },
  { desc: 'admin on the proxy port', config: { ...base, listen: { port: 8080 }, admin: { port: 8080 } }, expected: [['SY_ERR_CONFIG_PORT', 'admin.port']] },
  { desc: 'bad log level', config: { ...base, log: { level: 'verbose' } }, expected: [['SY_ERR_CONFIG_SCHEMA', 'log.level']] },
  { desc: 'host as list is fine, as number is not', config: withRoute({ to: 'stable', match: { host: 5 } }), expected: [['SY_ERR_CONFIG_SCHEMA', 'routes[0].match.host']] }
]

t.test('table of invalid configs', async t => {
  for (const c of cases) {
    t.same(problemsOf(c.config).map(p => [p.code, p.path]), c.expected, c.desc)
  }
})

t.test('regexes with one level of repetition are accepted, however many', async t => {
  for (const regex of ['Android|iPhone', '^/items/[0-9]+$', '^/static/.+\\.css$', '.*a.*b.*c.*d.*e.*f.*g.*h.*i.*j.*k.*l.*m.*n.*o.*p.*q.*r.*s.*t.*u.*v.*w.*x.*y.*z', '^(gold|silver)$', '(?<tier>gold)-[0-9]{2,4}']) {
    t.same(problemsOf(withRoute({ to: 'stable', rules: [{ name: 'r', when: { userAgent: { regex } }, to: 'canary' }] })), [], regex)
  }
})

t.test('messages say what is wrong', async t => {
  const [typo] = problemsOf(withRoute({ to: 'stable', rules: [{ name: 'a', when: { headers: { 'x-a': { exactly: '1' } } }, to: 'canary' }] }))
  t.match(typo?.message, /unknown field "exactly" \(known: exact, prefix, suffix, regex, in, present\)/)
  const [both] = problemsOf(withRoute({ to: 'stable', rules: [{ name: 'a', when: { cookies: { c: { exact: '1', prefix: '1' } } }, to: 'canary' }] }))
  t.equal(both?.message, 'needs exactly one of exact, prefix, suffix, regex, in, present')
  const [level] = problemsOf({ ...base, log: { level: 'verbose' } })
  t.match(level?.message, /must be one of "fatal", "error"/)
  const [host] = problemsOf(withRoute({ to: 'stable', match: { host: 5 } }))
  t.equal(host?.message, 'must be a string or a list')
})

t.test('valid variations', async t => {
  const ok: unknown[] = [
    withRoute({ to: 'stable' }),
    withRoute({ split: { stable: 1, canary: 999 } }),
    withRoute({ split: { stable: 0, canary: 5 }, sticky: { header: 'x-user-id' } }),
    withRoute({ to: 'stable', match: { host: ['a.test', '*.b.test'], methods: ['GET', 'post'], path: { exact: '/x' } }, timeout: '1m30s' }),
    withRoute({ to: 'stable', rules: [{ name: 'q', when: { query: { v: { in: ['1', '2'] } }, userAgent: { present: true } }, split: { stable: 1, canary: 1 } }] }),
    { ...base, backends: { ...base.backends, three: { version: 'v3', targets: ['https://example.com'], balance: 'least-pending', connections: 8, keepAliveTimeout: '4s' } }, routes: [{ name: 'r', split: { stable: 1, canary: 1, three: 1 } }] }
  ]
  for (const [i, c] of ok.entries()) t.same(problemsOf(c), [], `variation ${i}`)
})

t.test('the input value is never modified', async t => {
  const config = structuredClone(base)
  const frozen = JSON.stringify(config)
  validateConfig(config)
  t.equal(JSON.stringify(config), frozen)
})

t.test('formatPath', async t => {
  t.equal(formatPath(['routes', 0, 'split', 'canary']), 'routes[0].split.canary')
  t.equal(formatPath(['backends', 'a b']), 'backends["a b"]')
  t.equal(formatPath([]), '')
})

t.test('durations', async t => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('1m30s'), 90_000)
  t.equal(parseDuration('1.5s'), 1500)
  t.equal(parseDuration('2h'), 7_200_000)
  t.throws(() => parseDuration('30'), RangeError)
  t.throws(() => parseDuration('s'), RangeError)
  t.throws(() => parseDuration('1x'), RangeError)
  t.equal(formatDuration(90_000), '1.5m'.replace('1.5m', '90s'))
  t.equal(formatDuration(500), '500ms')
  t.equal(formatDuration(7_200_000), '2h')
})
