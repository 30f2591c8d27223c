import { useWebSocketContext } from '../../contexts/WebSocketContext';

/** Marks figures loaded before the connection was lost: they are not updated until it is back. */
export function StaleNote({ asOf }: { asOf: string }) {
  const { state } = useWebSocketContext();
  if (state === 'connected') return null;
  return (
    <p className="stale-note">
      Stale: as of {new Date(asOf).toLocaleTimeString()}, before the connection was lost; not updated until it is
      back.
    </p>
  );
}
