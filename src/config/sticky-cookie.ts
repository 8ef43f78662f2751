/**
 * The sticky cookie's attributes in the form `cookie`'s serialize() takes
 * them: validation tries them (a path `cookie` would refuse is a config
 * problem, not a crash when the first user arrives) and compile writes
 * them once per config.
 */
import type { SerializeOptions } from 'cookie'
import type { RawSticky } from './schema.js'

export function cookieOptions (s: RawSticky, maxAgeSeconds: number): SerializeOptions {
  return { maxAge: maxAgeSeconds, path: s.path ?? '/', domain: s.domain, httpOnly: true, secure: s.secure === true, sameSite: 'lax' }
}
