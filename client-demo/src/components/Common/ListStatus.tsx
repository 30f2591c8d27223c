import { useWebSocketContext } from '../../contexts/WebSocketContext';

interface ListStatusProps {
  list: { loaded: boolean; error: string | null; items: unknown[] };
  /** What to say when the server has nothing to show. */
  empty: string;
}

/** Says why a list shows nothing: not loaded while offline, a failed load, or really empty. */
export function ListStatus({ list, empty }: ListStatusProps) {
  const { state } = useWebSocketContext();
  if (list.error) return <p className="error">{list.error}</p>;
  if (!list.loaded) return state === 'connected' ? null : <NotLoaded />;
  return list.items.length === 0 ? <p className="empty">{empty}</p> : null;
}

export function NotLoaded() {
  return <p className="empty">Not loaded yet: waiting for the server.</p>;
}
