/**
 * Just enough of a Dockerfile parser for the tests to read the image's
 * build as data: stages, and each instruction with its flags (`--from=…`)
 * and words. Continuation lines are joined; comments are dropped.
 */

export interface Instruction {
  /** Upper-cased: FROM, COPY, RUN, … */
  readonly op: string
  /** `--name=value` flags, without the dashes. */
  readonly flags: Readonly<Record<string, string>>
  /** The rest, as written (after the flags). */
  readonly args: string
}

export interface Stage {
  readonly image: string
  readonly name: string | undefined
  readonly instructions: readonly Instruction[]
}

function instructions (text: string): Instruction[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  return logical.map(line => {
    const [op = '', ...rest] = line.split(/\s+/)
    const flags: Record<string, string> = {}
    while (rest[0]?.startsWith('--') === true) {
      const [k = '', v = ''] = (rest.shift() ?? '').slice(2).split('=')
      flags[k] = v
    }
    return { op: op.toUpperCase(), flags, args: rest.join(' ') }
  })
}

export function parseDockerfile (text: string): Stage[] {
  const stages: Array<{ image: string, name: string | undefined, instructions: Instruction[] }> = []
  for (const ins of instructions(text)) {
    if (ins.op === 'FROM') {
      const [image = '', as, name] = ins.args.split(/\s+/)
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] })
    } else {
      // Instructions before the first FROM (global ARGs) belong to no stage.
      stages.at(-1)?.instructions.push(ins)
    }
  }
  return stages
}

/** The words of an exec-form (JSON array) CMD or ENTRYPOINT. */
export function execForm (ins: Instruction | undefined): string[] {
  if (ins === undefined) return []
  const words: unknown = JSON.parse(ins.args)
  if (!Array.isArray(words) || !words.every(w => typeof w === 'string')) throw new Error(`${ins.op} is not in exec form: ${ins.args}`)
  return words
}

/** `COPY a b dest`: sources and destination. */
export function copyPaths (ins: Instruction): { sources: string[], dest: string } {
  const words = ins.args.split(/\s+/)
  return { sources: words.slice(0, -1), dest: words.at(-1) ?? '' }
}
