// The sign-in of this tab, kept in sessionStorage so a reload stays signed in.
import type { AuthPayload } from './websocket/client';

const KEY = 'pulso-demo.auth';

export function loadAuth(): AuthPayload | null {
  const saved = sessionStorage.getItem(KEY);
  return saved ? (JSON.parse(saved) as AuthPayload) : null;
}

export function saveAuth(auth: AuthPayload | null): void {
  if (auth) sessionStorage.setItem(KEY, JSON.stringify(auth));
  else sessionStorage.removeItem(KEY);
}
