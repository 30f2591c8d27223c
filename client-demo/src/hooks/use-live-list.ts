import { useCallback, useEffect, useRef, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import { getJson, type Page } from '../lib/api';

export interface LiveList<T> {
  items: T[];
  /** False until the first page has arrived. */
  loaded: boolean;
  error: string | null;
  /** Puts a live version of an item in the list (replacing the one with its key, or first). */
  apply: (item: T) => void;
}

/**
 * A REST list kept current by live events. It is (re)loaded whenever the socket
 * (re)connects without recovering its session, so nothing missed while offline stays
 * missing; a recovered session got the missed events replayed, so the list is kept
 * and they are applied to it like live ones. Items applied while a
 * load is in flight are applied again on top of it: events carry whole entities, so
 * replaying them in order never goes back in time. `keyOf` must be a stable function
 * (declared outside the component).
 */
export function useLiveList<T>(path: string, keyOf: (item: T) => string | number): LiveList<T> {
  const { state, recovered, auth, url } = useWebSocketContext();
  const [items, setItems] = useState<T[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sinceLoad = useRef<T[] | null>(null);
  const loadedOnce = useRef(false);

  useEffect(() => {
    if (state !== 'connected' || (recovered && loadedOnce.current)) return;
    let current = true;
    sinceLoad.current = [];
    getJson<Page<T>>(path, auth, url).then(
      (page) => {
        if (!current) return;
        const live = sinceLoad.current ?? [];
        sinceLoad.current = null;
        setItems(live.reduce((list, item) => upsert(list, item, keyOf), page.items));
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
  }, [state, recovered, path, auth, url, keyOf]);

  const apply = useCallback(
    (item: T) => {
      sinceLoad.current?.push(item);
      setItems((list) => upsert(list, item, keyOf));
    },
    [keyOf],
  );
  return { items, loaded, error, apply };
}

function upsert<T>(list: T[], item: T, keyOf: (item: T) => string | number): T[] {
  const key = keyOf(item);
  const index = list.findIndex((existing) => keyOf(existing) === key);
  return index === -1 ? [item, ...list] : list.map((existing, i) => (i === index ? item : existing));
}
