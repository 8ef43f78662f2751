/** The committed, build-time compiled validators match the schemas in src/ (regenerate: npm run build:validators). */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { generateValidators } from '../../build/generate-validators.js'

const GENERATED_DIR = new URL('../../src/config/generated/', import.meta.url)

t.test('src/config/generated/ is up to date with the schemas', async t => {
  for (const [file, text] of Object.entries(generateValidators())) {
    const committed = await readFile(new URL(file, GENERATED_DIR), 'utf8')
    t.ok(committed === text, `${file} is current (if not: npm run build:validators)`)
  }
})
