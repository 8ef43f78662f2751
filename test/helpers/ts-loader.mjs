/**
 * Runs the TypeScript tests and src/ without a compile step: `node
 * --import=./test/helpers/ts-loader.mjs` (set in .taprc) registers hooks
 * that turn each .ts file into JavaScript with esbuild as it is loaded.
 * Transpile only: `npm run typecheck` checks test/ and src/ once.
 *
 * Why not tap's ts-node plugin: it loads the TypeScript compiler in every
 * test process (~3 s of CPU each, a minute and more per run). Why not tsx:
 * it minifies whitespace, and V8 coverage mapped back through its source
 * maps lands on the wrong lines and files. esbuild here keeps the layout
 * and writes an inline source map, so stack traces and coverage point at
 * the .ts lines.
 */
import { existsSync, readFileSync } from 'node:fs'
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { transform } from 'esbuild'

// This file is both the --import entry and the hooks module, which Node runs on its loader thread.
if (isMainThread) register(import.meta.url)

/** `./x.js` written in a .ts file (NodeNext style) means `./x.ts` when that exists. */
export async function resolve (specifier, context, nextResolve) {
  if (/^\.{1,2}\/.*\.js$/.test(specifier) && context.parentURL?.endsWith('.ts') === true) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL)
    if (existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true }
  }
  return await nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return await nextLoad(url, context)
  const path = fileURLToPath(url)
  const { code } = await transform(readFileSync(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    sourcemap: 'inline',
    // As tsc compiles it (tsconfig.json): imports are kept or dropped as written.
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } }
  })
  return { format: 'module', source: code, shortCircuit: true }
}
