import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { PulsoClient, type AuthPayload, type ConnectionSnapshot } from '../lib/websocket/client';

export interface WebSocketContextValue extends ConnectionSnapshot {
  client: PulsoClient;
  /** The credentials, also used for REST calls. */
  auth: AuthPayload;
  /** The server; undefined means the page's own origin. */
  url?: string;
}

const WebSocketContext = createContext<WebSocketContextValue | null>(null);

interface WebSocketProviderProps {
  /** Keep the same object while the credentials stay the same: a new one reconnects. */
  auth: AuthPayload;
  url?: string;
  children: ReactNode;
}

/** Opens one connection for its children and closes it when unmounted or signed out. */
export function WebSocketProvider({ auth, url, children }: WebSocketProviderProps) {
  // Creating the client does not connect it: children subscribe first (their effects run
  // before this one), so nothing sent right after the handshake is missed.
  const client = useMemo(() => new PulsoClient({ url, auth }), [url, auth]);
  useEffect(() => {
    client.connect();
    return () => client.disconnect();
  }, [client]);
  const snapshot = useSyncExternalStore(client.subscribe, () => client.snapshot);
  const value = useMemo(() => ({ ...snapshot, client, auth, url }), [snapshot, client, auth, url]);
  return <WebSocketContext.Provider value={value}>{children}</WebSocketContext.Provider>;
}

export function useWebSocketContext(): WebSocketContextValue {
  const value = useContext(WebSocketContext);
  if (!value) throw new Error('useWebSocketContext must be used inside a WebSocketProvider');
  return value;
}
