import { useState, type FormEvent } from 'react';
import type { AuthPayload } from '../lib/websocket/client';

type Method = 'api_key' | 'token';

/** Development sign-in: an API key and a user id, or a pasted JWT. */
export function SignIn({ onSignIn }: { onSignIn: (auth: AuthPayload) => void }) {
  const [method, setMethod] = useState<Method>('api_key');
  const [apiKey, setApiKey] = useState('dev');
  const [userId, setUserId] = useState('');
  const [token, setToken] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    onSignIn(method === 'api_key' ? { api_key: apiKey.trim(), user_id: userId.trim() } : { token: token.trim() });
  }

  return (
    <main className="sign-in">
      <h1>pulso dashboard</h1>
      <form className="panel" onSubmit={submit} aria-label="Sign in">
        <fieldset className="tabs">
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="method" checked={method === 'api_key'} onChange={() => setMethod('api_key')} />
            API key
          </label>
          <label>
            <input type="radio" name="method" checked={method === 'token'} onChange={() => setMethod('token')} />
            JWT
          </label>
        </fieldset>
        {method === 'api_key' ? (
          <>
            <label>
              API key
              <input value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" />
            </label>
            <label>
              User id
              <input value={userId} onChange={(e) => setUserId(e.target.value)} placeholder="e.g. alice" />
            </label>
            <p className="hint">
              In development the key <code>dev</code> is an admin. Other keys come from <code>PULSO_API_KEYS</code>.
            </p>
          </>
        ) : (
          <label>
            Token
            <textarea
              value={token}
              onChange={(e) => setToken(e.target.value)}
              rows={4}
              placeholder="eyJhbGciOiJIUzI1NiJ9…"
            />
          </label>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
