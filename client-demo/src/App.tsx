import { useState } from 'react';
import { Dashboard } from './components/Dashboard/Dashboard';
import { SignIn } from './components/SignIn';
import { WebSocketProvider } from './contexts/WebSocketContext';
import { loadAuth, saveAuth } from './lib/session';
import type { AuthPayload } from './lib/websocket/client';

export function App() {
  const [auth, setAuth] = useState(loadAuth);
  const signIn = (next: AuthPayload | null) => {
    saveAuth(next);
    setAuth(next);
  };
  if (!auth) return <SignIn onSignIn={signIn} />;
  return (
    <WebSocketProvider auth={auth}>
      <Dashboard onSignOut={() => signIn(null)} />
    </WebSocketProvider>
  );
}
