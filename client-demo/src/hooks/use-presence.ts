import { useEffect, useRef, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import { getJson } from '../lib/api';
import type { Online, Presence } from '../lib/websocket/types';
import { useWebSocket } from './use-websocket';

interface Change {
  online: boolean;
  user: Presence;
}

/**
 * Who is connected now: the server's list (`GET /api/presence`), then kept by
 * `user_connected` / `user_disconnected`. Presence events are not logged, so a recovered
 * session gets none of those it missed: the list is reloaded on every connect. Changes
 * that arrive while it loads are applied again on top of it.
 */
export function usePresence(): { items: Presence[]; loaded: boolean; error: string | null } {
  const { state, auth, url } = useWebSocketContext();
  const [items, setItems] = useState<Presence[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sinceLoad = useRef<Change[] | null>(null);

  useEffect(() => {
    if (state !== 'connected') return;
    let current = true;
    sinceLoad.current = [];
    getJson<Online>('/api/presence', auth, url).then(
      ({ users }) => {
        if (!current) return;
        const changes = sinceLoad.current ?? [];
        sinceLoad.current = null;
        setItems(changes.reduce(applyChange, users));
        setLoaded(true);
        setError(null);
      },
      (reason: Error) => {
        if (!current) return;
        sinceLoad.current = null;
        setError(reason.message);
      },
    );
    return () => {
      current = false;
    };
  }, [state, auth, url]);

  const change = (next: Change) => {
    sinceLoad.current?.push(next);
    setItems((list) => applyChange(list, next));
  };
  useWebSocket('user_connected', (user) => change({ online: true, user }));
  useWebSocket('user_disconnected', (user) => change({ online: false, user }));
  return { items, loaded, error };
}

/** A user is listed once per role it connected as, like the server's list. */
function applyChange(list: Presence[], { online, user }: Change): Presence[] {
  const others = list.filter((u) => u.user_id !== user.user_id || u.role !== user.role);
  return online ? [...others, user].sort((a, b) => a.user_id.localeCompare(b.user_id)) : others;
}
