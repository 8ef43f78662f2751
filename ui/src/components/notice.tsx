/** What a change did: the revision it created, or why it was refused (a conflict offers to reload). */
import type { ApiError } from '../api.js'
import type { ChangeReply } from '../types.js'

export type Outcome =
  | { readonly kind: 'done', readonly what: string, readonly reply: ChangeReply }
  | { readonly kind: 'failed', readonly what: string, readonly error: ApiError, readonly basis: number }

export function OutcomeNotice ({ outcome, onReload }: { outcome: Outcome | null, onReload: () => void }) {
  if (outcome === null) return null
  if (outcome.kind === 'done') {
    const r = outcome.reply
    return (
      <p class='notice ok' role='status' data-revision={r.revision}>
        {r.changed ? <>{outcome.what}: created <b>revision {r.revision}</b> — {r.summary}</> : <>{outcome.what}: {r.summary} (still revision {r.revision})</>}
      </p>
    )
  }
  const e = outcome.error
  if (e.conflict) {
    const now = e.currentRevision
    return (
      <div class='notice conflict' role='alert'>
        <p>
          <b>Conflict: nothing was changed.</b> Someone else changed the config while you were editing:
          it is now at <b>revision {now ?? '?'}</b>, and you were looking at revision {outcome.basis}.
        </p>
        <button type='button' onClick={onReload}>Reload revision {now ?? ''} and start again</button>
      </div>
    )
  }
  return (
    <p class='notice error' role='alert'>
      {outcome.what} failed: {e.message}{e.code.startsWith('SY_ERR_') ? ` [${e.code}]` : ''}
    </p>
  )
}
