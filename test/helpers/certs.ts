/**
 * Test certificates made at test time with openssl: a CA, and leaf
 * certificates it signs for given DNS names (key and cert as PEM files).
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCa { readonly cert: string, readonly key: string, readonly pem: Buffer }
export interface Leaf { readonly cert: string, readonly key: string }

export async function makeCa (dir: string): Promise<TestCa> {
  const key = join(dir, 'ca.key')
  const cert = join(dir, 'ca.crt')
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=switchyard test CA'])
  return { cert, key, pem: await readFile(cert) }
}

/** A leaf for `names` (the first is the CN), signed by `ca`, written as `<base>.crt`/`<base>.key` in `dir`. */
export async function makeLeaf (dir: string, ca: TestCa, base: string, names: readonly string[]): Promise<Leaf> {
  const key = join(dir, `${base}.key`)
  const csr = join(dir, `${base}.csr`)
  const cert = join(dir, `${base}.crt`)
  const ext = join(dir, `${base}.ext`)
  const { writeFile } = await import('node:fs/promises')
  await writeFile(ext, `subjectAltName=${names.map(n => /^[0-9.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`).join(',')}\n`)
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0] ?? base}`])
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext])
  return { cert, key }
}
