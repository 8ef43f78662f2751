// Builds the web console into dist/ui/ (run by `npm run build`): one
// minified ES module and one stylesheet, named by content hash so the admin
// listener can let browsers cache them for good, and an index.html that
// names them. Prints the shipped size, raw and gzipped.
import { build } from 'esbuild'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { gzipSync } from 'node:zlib'

const OUT = 'dist/ui'
await rm(OUT, { recursive: true, force: true })
await mkdir(OUT, { recursive: true })

const result = await build({
  entryPoints: { app: 'ui/src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: OUT,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning'
})

const outputs = Object.keys(result.metafile.outputs).map(p => basename(p))
const js = outputs.find(n => n.endsWith('.js'))
const css = outputs.find(n => n.endsWith('.css'))
if (js === undefined || css === undefined) throw new Error(`esbuild produced ${outputs.join(', ')}: expected one .js and one .css`)
const template = await readFile('ui/index.html', 'utf8')
await writeFile(join(OUT, 'index.html'), template.replace('{{css}}', `/ui/${css}`).replace('{{js}}', `/ui/${js}`))

const sizes = await Promise.all(['index.html', js, css].map(async name => {
  const body = await readFile(join(OUT, name))
  return { name, raw: body.length, gzip: gzipSync(body, { level: 9 }).length }
}))
const kib = n => `${(n / 1024).toFixed(1)} KiB`
const total = sizes.reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }), { raw: 0, gzip: 0 })
console.log(`ui: ${sizes.map(s => `${s.name} ${kib(s.raw)} (gzip ${kib(s.gzip)})`).join(', ')}; total ${kib(total.raw)} (gzip ${kib(total.gzip)})`)
