import type { Online, Presence } from '../lib/websocket/types';
import { useServerList } from './use-server-list';
import { useWebSocket } from './use-websocket';

interface Change {
  online: boolean;
  user: Presence;
}

/**
 * Who is connected now: the server's list (`GET /api/presence`), then kept by
 * `user_connected` / `user_disconnected`. Presence events are not logged, so a recovered
 * session gets none of those it missed: the list is reloaded on every connect.
 */
export function usePresence(): { items: Presence[]; loaded: boolean; error: string | null } {
  const { items, loaded, error, change } = useServerList('/api/presence', usersOf, applyChange, false);
  useWebSocket('user_connected', (user) => change({ online: true, user }));
  useWebSocket('user_disconnected', (user) => change({ online: false, user }));
  return { items, loaded, error };
}

function usersOf(reply: Online): Presence[] {
  return reply.users;
}

/** A user is listed once per role it connected as, like the server's list. */
function applyChange(list: Presence[], { online, user }: Change): Presence[] {
  const others = list.filter((u) => u.user_id !== user.user_id || u.role !== user.role);
  return online ? [...others, user].sort((a, b) => a.user_id.localeCompare(b.user_id)) : others;
}
