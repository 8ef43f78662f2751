/**
 * The docs name only what exists: every repository path in their code, every
 * `npm run` script, every relative link and its #anchor. Pure file reads, no
 * processes: a page that says `k8s/routing-configmap.yaml` or
 * `npm run test:unit` when neither exists fails here, not in a user's shell.
 */
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { ROOT, repoPath } from '../helpers/repo.js'
import { anchorsOf, codeOf, npmScriptsIn, pathsIn, relativeLinksIn, slug } from '../helpers/markdown.js'

const DOCS = ['README.md', 'bench/README.md', ...readdirSync(repoPath('docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)]

/** Folders git ignores (build output, results): the docs may name them, they need not exist. */
const IGNORED = readFileSync(repoPath('.gitignore'), 'utf8').split('\n')
  .map(l => l.trim()).filter(l => l.endsWith('/') && !l.startsWith('#')).map(l => l.replace(/^\//, ''))

/** Top-level folders of the repository: a code token starting with one of them is a path to check. */
const ROOTS = readdirSync(ROOT, { withFileTypes: true })
  .filter(e => e.isDirectory() && e.name !== '.git' && !IGNORED.includes(`${e.name}/`))
  .map(e => e.name)

const SCRIPTS = Object.keys((JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)

/** Whether a repository path exists; `*` in a segment matches like a shell glob (at least one entry). */
function exists (path: string, base = ROOT): boolean {
  const [head, ...rest] = path.split('/').filter(s => s !== '')
  if (head === undefined) return true
  const names = head.includes('*')
    ? (isDir(base) ? readdirSync(base) : []).filter(n => new RegExp(`^${head.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`).test(n))
    : [head]
  return names.some(n => existsSync(join(base, n)) && exists(rest.join('/'), join(base, n)))
}
const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory()

/** Paths with a placeholder (`<timestamp>`, `{n}`, `…`, `$VAR`) name no one file. */
const isPlaceholder = (p: string): boolean => /[<>{}…$]/.test(p)

t.test('the markdown helpers find what they must', async t => {
  const roots = ['config', 'k8s', '.ci']
  t.same(pathsIn('edit `k8s/routing-configmap.yaml`: see k8s/base/, then .ci/kubectl.', roots), ['k8s/routing-configmap.yaml', 'k8s/base/', '.ci/kubectl'])
  t.same(pathsIn('/etc/switchyard/config/x.yaml http://h/config/a mykube/config/b config/a.yaml:12:13', roots), ['config/a.yaml'])
  t.same(npmScriptsIn('`npm run\ntest:e2e`, npm run --silent demo:rollout, npm start && npm test'), ['test:e2e', 'demo:rollout', 'start', 'test'])
  t.same(relativeLinksIn('[a](x.md#y) [b](https://e.com) ![c](img.png "t") `[d](code.md)`\n```\n[e](fenced.md)\n```\n'), ['x.md#y', 'img.png'])
  t.same(codeOf('a `one` b\n```sh\ntwo\n```\n'), ['```sh\ntwo\n```', 'one'])
  t.equal(slug('An automated ramp, rolled back when the canary fails'), 'an-automated-ramp-rolled-back-when-the-canary-fails')
  t.equal(slug('`backends.<name>`'), 'backendsname')
  t.equal(slug('A/B conversion rate'), 'ab-conversion-rate')
  t.same([...anchorsOf('# Top\n## Top\n```\n# not a heading\n```\n## `rules[]`\n')], ['top', 'top-1', 'rules'])
  t.ok(exists('config/prometheus/tests/*.yml'))
  t.notOk(exists('config/prometheus/tests/*.json'))
  t.notOk(exists('k8s/routing-configmap.yaml'))
  t.ok(ROOTS.includes('k8s') && ROOTS.includes('src') && !ROOTS.includes('node_modules') && !ROOTS.includes('dist'))
})

for (const doc of DOCS) {
  t.test(doc, async t => {
    const md = readFileSync(repoPath(doc), 'utf8')

    const paths = codeOf(md).flatMap(code => pathsIn(code, ROOTS))
      .filter(p => !isPlaceholder(p) && !IGNORED.some(i => `${p}/`.startsWith(i)))
    t.same(paths.filter(p => !exists(p)), [], 'every repository path in its code exists')

    t.same(npmScriptsIn(md).filter(s => !SCRIPTS.includes(s)), [], 'every npm script it runs is in package.json')

    const broken = relativeLinksIn(md).filter(link => {
      const [file = '', anchor] = link.split('#')
      const target = file === '' ? repoPath(doc) : join(dirname(repoPath(doc)), decodeURIComponent(file))
      if (!existsSync(target)) return true
      return anchor !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)
    })
    t.same(broken, [], 'every relative link (and #anchor) resolves')
    t.comment(`${relative(ROOT, repoPath(doc))}: ${paths.length} paths, ${relativeLinksIn(md).length} links`)
  })
}
