import { useEffect, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import { getJson, type StatsResponse } from '../lib/api';

const STATS_EVERY_MS = 2000;

/** `GET /ws/stats` every few seconds while connected; `stale` while it cannot be. */
export function useLiveStats(): { stats: StatsResponse | null; error: string | null; stale: boolean } {
  const { auth, url, state } = useWebSocketContext();
  const [stats, setStats] = useState<StatsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (state !== 'connected') return;
    let current = true;
    const load = () =>
      getJson<StatsResponse>('/ws/stats', auth, url).then(
        (response) => current && (setStats(response), setError(null)),
        (reason: Error) => current && setError(reason.message),
      );
    load();
    const timer = setInterval(load, STATS_EVERY_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [auth, url, state]);
  return { stats, error, stale: state !== 'connected' };
}
