/** `npm run demo:rollout` end to end (shortened): no failed request, and the 0 % / 100 % steps are pure. */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const DEMO = fileURLToPath(new URL('../../dist/demo/rollout.js', import.meta.url))

t.test('the rollout demo moves 0 → 33 → 66 → 100 % and back with no failed request', async t => {
  const child = spawn(process.execPath, [DEMO, '--per-step', '8', '--interval-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', d => { out += String(d) })
  const [code] = await once(child, 'exit') as [number | null]
  const lines = out.trimEnd().split('\n')
  t.equal(code, 0, 'the demo exits 0', { output: out })

  const answers = lines.filter(l => l.startsWith('I am: '))
  t.ok(answers.length >= 40, 'every request printed its answer')
  t.ok(answers.every(l => /^I am: 127\.0\.0\.1:\d+, the version is: 0\.[56]$/.test(l)), 'answers look like the testpage')

  const table = lines.slice(lines.indexOf('== summary: answers per version in each step') + 1)
  t.equal(table[0], 'step                       0.5   0.6  failed')
  t.equal(table[1], '0 % to 0.6                   8     0       0')
  t.match(table[2], /^33 % to 0\.6 +\d+ +\d+ +0$/)
  t.match(table[3], /^66 % to 0\.6 +\d+ +\d+ +0$/)
  t.equal(table[4], '100 % to 0.6                 0     8       0')
  t.equal(table[5], 'rollback: 0 % to 0.6         8     0       0')
  t.match(table[6], /^while switching +\d+ +\d+ +0$/)
  t.equal(table.length, 8)
  t.match(table[7], /^failed requests: 0 of \d+$/)
})
