import { useCallback, useEffect, useRef, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import { getJson } from '../lib/api';

export interface ServerList<T, C> {
  items: T[];
  /** False until the first answer has arrived. */
  loaded: boolean;
  error: string | null;
  /** Applies a live change to the list. */
  change: (change: C) => void;
}

/**
 * A list the server answers at `path` (`itemsOf` takes it out of the answer), kept by
 * live changes. It is (re)loaded whenever the socket (re)connects, except, with
 * `keepWhenRecovered`, when the session was recovered: the missed events were replayed
 * and are applied like live ones. Changes that arrive while a load is in flight are
 * applied again on top of it. `itemsOf` and `applyChange` must be stable functions.
 */
export function useServerList<R, T, C>(
  path: string,
  itemsOf: (reply: R) => T[],
  applyChange: (list: T[], change: C) => T[],
  keepWhenRecovered: boolean,
): ServerList<T, C> {
  const { state, recovered, auth, url } = useWebSocketContext();
  const [items, setItems] = useState<T[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sinceLoad = useRef<C[] | null>(null);
  const loadedOnce = useRef(false);

  useEffect(() => {
    if (state !== 'connected' || (keepWhenRecovered && recovered && loadedOnce.current)) return;
    let current = true;
    sinceLoad.current = [];
    getJson<R>(path, auth, url).then(
      (reply) => {
        if (!current) return;
        const changes = sinceLoad.current ?? [];
        sinceLoad.current = null;
        setItems(changes.reduce(applyChange, itemsOf(reply)));
        loadedOnce.current = true;
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
  }, [state, recovered, keepWhenRecovered, path, auth, url, itemsOf, applyChange]);

  const change = useCallback(
    (next: C) => {
      sinceLoad.current?.push(next);
      setItems((list) => applyChange(list, next));
    },
    [applyChange],
  );
  return { items, loaded, error, change };
}
