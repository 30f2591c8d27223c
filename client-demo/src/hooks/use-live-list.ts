import { useCallback } from 'react';
import type { Page } from '../lib/api';
import { useServerList } from './use-server-list';

export interface LiveList<T> {
  items: T[];
  /** False until the first page has arrived. */
  loaded: boolean;
  error: string | null;
  /** Puts a live version of an item in the list (replacing the one with its key, or first). */
  apply: (item: T) => void;
}

/**
 * A REST list kept current by live events, which carry whole entities, so replaying
 * them in order never goes back in time. It is kept when the session was recovered
 * (see `useServerList`). `keyOf` must be a stable function (declared outside the
 * component).
 */
export function useLiveList<T>(path: string, keyOf: (item: T) => string | number): LiveList<T> {
  const upsertByKey = useCallback((list: T[], item: T) => upsert(list, item, keyOf), [keyOf]);
  const { items, loaded, error, change } = useServerList(path, itemsOfPage<T>, upsertByKey, true);
  return { items, loaded, error, apply: change };
}

function itemsOfPage<T>(page: Page<T>): T[] {
  return page.items;
}

function upsert<T>(list: T[], item: T, keyOf: (item: T) => string | number): T[] {
  const key = keyOf(item);
  const index = list.findIndex((existing) => keyOf(existing) === key);
  return index === -1 ? [item, ...list] : list.map((existing, i) => (i === index ? item : existing));
}
