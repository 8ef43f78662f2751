/**
 * The rollout demo's client: one request at a time, each answer printed as
 * it comes (`I am: 127.0.0.1:40123, the version is: 0.5`), each counted
 * under the step it was sent in. Anything but a 200 testpage answer within
 * the timeout is a failed request.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'

const ANSWER = /^I am: .+, the version is: (.+)\n$/

export interface Tally {
  /** Answers per version. */
  readonly versions: Map<string, number>
  failed: number
}

export function newTally (): Tally {
  return { versions: new Map(), failed: 0 }
}

export class RolloutClient {
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: 5_000, bodyTimeout: 5_000 })

  constructor (
    private readonly proxyUrl: string,
    private readonly intervalMs: number,
    private readonly print: (line: string) => void
  ) {}

  /** Sends one request, prints and counts its outcome, then waits the interval. */
  async send (into: Tally): Promise<void> {
    const outcome = await this.#get()
    if ('version' in outcome) {
      into.versions.set(outcome.version, (into.versions.get(outcome.version) ?? 0) + 1)
      this.print(outcome.text)
    } else {
      into.failed++
      this.print(`FAILED: ${outcome.error}`)
    }
    await sleep(this.intervalMs)
  }

  async close (): Promise<void> {
    await this.#agent.close()
  }

  async #get (): Promise<{ version: string, text: string } | { error: string }> {
    try {
      const res = await request(this.proxyUrl + '/', { dispatcher: this.#agent })
      const text = await res.body.text()
      const m = ANSWER.exec(text)
      if (res.statusCode !== 200 || m === null) return { error: `${res.statusCode} ${JSON.stringify(text)}` }
      return { version: m[1] ?? '', text: text.trimEnd() }
    } catch (err) {
      return { error: (err as Error).message }
    }
  }
}
