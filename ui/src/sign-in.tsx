/**
 * Asked for when the admin API answers 401: the listener has a token
 * (SWITCHYARD_ADMIN_TOKEN). The token is kept for this tab only (api.ts).
 */
import { useState } from 'preact/hooks'
import { token } from './api.js'

export function SignIn ({ message, onSignedIn }: { message: string, onSignedIn: () => void }) {
  const [value, setValue] = useState('')
  return (
    <main class='sign-in'>
      <h1>switchyard</h1>
      <form onSubmit={e => { e.preventDefault(); if (value.trim() !== '') { token.set(value.trim()); onSignedIn() } }}>
        <p>This admin listener needs its bearer token.</p>
        {token.get() !== null && <p class='notice error' role='alert'>The token was refused: {message}</p>}
        <label>
          Admin token
          <input type='password' name='token' autocomplete='off' required value={value} onInput={e => setValue(e.currentTarget.value)} />
        </label>
        <button type='submit'>Sign in</button>
        <p class='hint'>Kept in this browser tab only (sessionStorage), sent as <code>Authorization: Bearer</code> to this listener and nowhere else.</p>
      </form>
    </main>
  )
}
