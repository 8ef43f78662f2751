/**
 * Top functions by self time in a V8 `.cpuprofile` (from `node --cpu-prof`),
 * and self time grouped by where the code lives (switchyard's src/, each
 * npm package, Node internals, GC/idle/program). A text stand-in for a flame
 * graph, small enough to paste into an issue.
 * Usage: node dist-bench/bench/profile-top.js <file.cpuprofile> [topN=25]
 */
import { readFileSync } from 'node:fs'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[], timeDeltas?: number[] }

const file = process.argv[2]
if (file === undefined) {
  console.error('usage: profile-top.js <file.cpuprofile> [topN]')
  process.exit(2)
}
const topN = Number(process.argv[3] ?? 25)
const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile

// Self time per node: the sampling interval that ended on each sample.
const selfUs = new Map<number, number>()
const samples = prof.samples ?? []
const deltas = prof.timeDeltas ?? []
for (let i = 0; i < samples.length; i++) {
  // timeDeltas[i] is the time before sample i; attribute it to sample i's node.
  const id = samples[i]!
  selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0))
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
// Percentages are of busy time: idle stretches (start-up, pauses between
// runs) say nothing about the hot path.
const idleUs = prof.nodes.filter(n => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (selfUs.get(n.id) ?? 0), 0)
const busy = total - idleUs

/** Where a frame's code lives, for the grouped view. */
function placeOf (cf: CallFrame): string {
  const url = cf.url
  if (url === '') return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return 'node: internals'
  // dist/ is what `serve` runs; dist-bench/ is what the micro-benchmarks import
  const m = /\/(dist|dist-bench)\/(.*)\/[^/]*$/.exec(url)
  if (m !== null) return `switchyard ${m[1]}/${m[2]}/`
  return url
}

function shortUrl (url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length)
  const m = /\/(dist|dist-bench)\/.*$/.exec(url)
  if (m !== null) return m[0].slice(1)
  return url.replace(/^file:\/\//, '')
}

/** Native frames V8 shows without a JS caller name: what they are. */
const NATIVE_NOTES: Record<string, string> = {
  writev: 'socket writes (syscall), client responses and upstream requests',
  writeLatin1String: 'socket write of a string (syscall)',
  writeBuffer: 'socket write of a Buffer (syscall)',
  '(garbage collector)': 'GC on the main thread',
  '(program)': 'V8/Node native work outside JS (parsers, epoll, timers)'
}

const byFunction = new Map<string, number>()
const byPlace = new Map<string, number>()
for (const node of prof.nodes) {
  const us = selfUs.get(node.id) ?? 0
  const cf = node.callFrame
  if (us === 0 || cf.functionName === '(idle)') continue
  const key = cf.url === ''
    ? cf.functionName || '(anonymous)'
    : `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const place = placeOf(cf)
  byPlace.set(place, (byPlace.get(place) ?? 0) + us)
}

const pctOf = (us: number): string => `${(100 * us / busy).toFixed(1).padStart(5)} %`
const lines: string[] = []
lines.push(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages below are of busy time)`)
lines.push('', `Top ${topN} functions by self time:`)
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, topN)) {
  const note = NATIVE_NOTES[k]
  lines.push(`${pctOf(us)}  ${k}${note === undefined ? '' : `  — ${note}`}`)
}
lines.push('', 'Self time by where the code lives:')
for (const [k, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`${pctOf(us)}  ${k}`)
console.log(lines.join('\n'))
