/** Resolves when `ok()` holds, checking every 20 ms (a throw counts as not yet); rejects naming `what` after the deadline. */
export async function until (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await ok()) return
    } catch {
      // not yet: the store or the replica may be out of reach
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
