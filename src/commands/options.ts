/**
 * Argument parsers for the CLI's options and arguments, in commander's own
 * form (`.option(flags, description, parser)`): each turns the text into a
 * value or throws commander's InvalidArgumentError, so a bad value is
 * refused with commander's usual message and exit code before a command
 * runs. Parsers of repeatable values accumulate into `previous`.
 */
import { availableParallelism } from 'node:os'
import { InvalidArgumentError } from 'commander'
import { parseDuration } from '../util/duration.js'

/** `serve --workers`: 1 to 256, or `auto` for one per core. */
export function workersArg (value: string): number {
  if (value === 'auto') return availableParallelism()
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('--workers takes a number from 1 to 256 or `auto`')
  return n
}

/** A revision number (`undo --to-revision`). */
export function revisionArg (value: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new InvalidArgumentError('--to-revision needs a revision number (see `switchyard history`)')
  return Number(value)
}

/** A TCP port, 0 for any free one. */
export function portArg (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n > 65535) throw new InvalidArgumentError('--port must be 0..65535')
  return n
}

/** A positive integer (`ramp --min-requests`). */
export function countArg (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(value)}`)
  return n
}

/** A parser of a duration (`30s`, `250ms`) into milliseconds, naming its option in the error. */
export function durationArg (option: string): (value: string) => number {
  return value => {
    try {
      return parseDuration(value)
    } catch (err) {
      throw new InvalidArgumentError(`${option}: ${(err as Error).message}`)
    }
  }
}

/** A parser of a percentage from 0 to 100, `1`, `0.5` or `0.5%`, naming its option in the error. */
export function percentOf (option: string): (value: string) => number {
  return value => {
    const m = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim())
    if (m === null || Number(m[1]) > 100) throw new InvalidArgumentError(`${option}: expected a percentage such as 1 or 0.5%, got ${JSON.stringify(value)}`)
    return Number(m[1])
  }
}

/** `--max-error-rate` (ramp, rollout start). */
export const percentArg = percentOf('--max-error-rate')

/** A parser of `10,25,50,100` → increasing percentages from 0 to 100, naming its option in the error. */
export function percentListOf (option: string): (text: string) => number[] {
  return text => {
    const out: number[] = []
    for (const s of text.split(',').map(x => x.trim())) {
      if (!/^\d+$/.test(s) || Number(s) > 100) throw new InvalidArgumentError(`${option}: expected percentages from 0 to 100 separated by commas, got ${JSON.stringify(s)}`)
      const n = Number(s)
      if (out.length > 0 && n <= (out[out.length - 1] as number)) throw new InvalidArgumentError(`${option} must increase: ${text}`)
      out.push(n)
    }
    return out
  }
}

/** `ramp --steps`, `rollout start --steps`. */
export const stepsArg = percentListOf('--steps')

/** One `BACKEND=WEIGHT` pair (a non-negative integer) added to the weights so far (`set-weight`). */
export function weightArg (pair: string, previous: Readonly<Record<string, number>> = {}): Record<string, number> {
  const m = /^([^=\s]+)=(\d+)$/.exec(pair)
  if (m === null) throw new InvalidArgumentError(`expected BACKEND=WEIGHT (a non-negative integer), got ${JSON.stringify(pair)}`)
  return { ...previous, [m[1] as string]: Number(m[2]) }
}

/** One `Name: value` header added to those so far (`explain -H`); names are lowercased. */
export function headerArg (header: string, previous: Readonly<Record<string, string>> = {}): Record<string, string> {
  const i = header.indexOf(':')
  if (i <= 0) throw new InvalidArgumentError(`expected -H 'Name: value', got ${JSON.stringify(header)}`)
  return { ...previous, [header.slice(0, i).trim().toLowerCase()]: header.slice(i + 1).trim() }
}

/** One `name=value` cookie added to those so far (`explain --cookie`). */
export function cookieArg (cookie: string, previous: Readonly<Record<string, string>> = {}): Record<string, string> {
  const i = cookie.indexOf('=')
  if (i <= 0) throw new InvalidArgumentError(`expected --cookie name=value, got ${JSON.stringify(cookie)}`)
  return { ...previous, [cookie.slice(0, i).trim()]: cookie.slice(i + 1).trim() }
}

/** A probability strictly between 0 and 1 (`rollout start --alpha`). */
export function probabilityArg (option: string): (value: string) => number {
  return value => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`${option}: expected a number between 0 and 1, got ${JSON.stringify(value)}`)
    return n
  }
}
