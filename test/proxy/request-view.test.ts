/** The request view's query lookup agrees with querystring.parse for every query string (property). */
import t from 'tap'
import fc from 'fast-check'
import { parse } from 'node:querystring'
import { queryValue, normaliseHost } from '../../src/proxy/request-view.js'
import { holds } from '../helpers/property.js'

const part = fc.stringMatching(/^[a-z0-9%+=.~_-]{0,6}$/)

t.test('queryValue(qs, k) is the first value querystring.parse gives for k', async t => {
  holds(t, fc.property(fc.array(fc.tuple(part, fc.option(part)), { maxLength: 6 }), part, (pairs, probe) => {
    const qs = pairs.map(([k, v]) => v === null ? k : `${k}=${v}`).join('&')
    const parsed = parse(qs)
    // Rule keys are never empty (the schema says so).
    for (const key of [...Object.keys(parsed), probe].filter(k => k !== '')) {
      const want = parsed[key]
      const first = Array.isArray(want) ? want[0] : want
      if (queryValue(qs, key) !== first) return false
    }
    return true
  }), { numRuns: 3000 })
  t.equal(queryValue('a=1&variant=b&variant=c', 'variant'), 'b')
  t.equal(queryValue('x=%E0%A4%A', 'x'), parse('x=%E0%A4%A').x, 'undecodable bytes as querystring treats them')
  t.equal(queryValue('flag&y=2', 'flag'), '')
  t.equal(queryValue('', 'a'), undefined)
})

t.test('normaliseHost', async t => {
  t.equal(normaliseHost('Example.COM:8080'), 'example.com')
  t.equal(normaliseHost('[::1]:80'), '[::1]')
  t.equal(normaliseHost(undefined), '')
})
