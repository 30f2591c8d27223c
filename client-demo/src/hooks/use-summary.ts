import { useCallback, useEffect, useRef, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import { getJson } from '../lib/api';
import type { Summary } from '../lib/websocket/types';
import { useWebSocket } from './use-websocket';

/** A burst of events (a batch of orders, a cancelled order's restock) costs one request. */
const REFRESH_MS = 200;

/**
 * The business figures (`GET /api/summary`), loaded on every (re)connect. They are kept
 * live the simplest correct way: an event that can change them makes the page ask the
 * server again (debounced), rather than redo the server's sums from events it may have
 * only some of (revenue "today", cancelled orders, stock it does not follow).
 */
export function useSummary(): { summary: Summary | null; error: string | null } {
  const { state, auth, url } = useWebSocketContext();
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [changes, setChanges] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    if (state !== 'connected') return;
    let current = true;
    getJson<Summary>('/api/summary', auth, url).then(
      (figures) => {
        if (!current) return;
        setSummary(figures);
        setError(null);
      },
      (reason: Error) => {
        if (current) setError(reason.message);
      },
    );
    // A newer load (or a disconnect) makes this one's answer stale.
    return () => {
      current = false;
    };
  }, [state, auth, url, changes]);

  useEffect(() => () => clearTimeout(timer.current), []);
  const changed = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setChanges((n) => n + 1), REFRESH_MS);
  }, []);
  useWebSocket('order_created', changed);
  useWebSocket('order_status_changed', changed);
  useWebSocket('inventory_updated', changed);
  return { summary, error };
}
