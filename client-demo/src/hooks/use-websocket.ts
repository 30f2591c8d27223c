import { useEffect, useRef } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import type { ServerEventName, ServerEvents } from '../lib/websocket/types';

/** Calls `handler` for every `eventType` event while the component is mounted. */
export function useWebSocket<E extends ServerEventName>(
  eventType: E,
  handler: (payload: ServerEvents[E]) => void,
): void {
  const { client } = useWebSocketContext();
  const latest = useLatest(handler);
  useEffect(() => client.on(eventType, (payload) => latest.current(payload)), [client, eventType, latest]);
}

/** Calls `handler` for every server event, whatever its name. */
export function useWebSocketAny(handler: (eventType: ServerEventName, payload: unknown) => void): void {
  const { client } = useWebSocketContext();
  const latest = useLatest(handler);
  useEffect(() => client.onAny((eventType, payload) => latest.current(eventType, payload)), [client, latest]);
}

/** A ref that always holds the latest render's value, so subscriptions need not restart. */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}
