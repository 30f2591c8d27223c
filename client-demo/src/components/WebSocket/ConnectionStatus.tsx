import { useWebSocketContext } from '../../contexts/WebSocketContext';
import type { ConnectionState } from '../../lib/websocket/client';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

/** A dot and a word for the connection; ConnectionProblem says what is wrong. */
export function ConnectionStatus() {
  const { state } = useWebSocketContext();
  return (
    <span
      className={`connection connection-${state}`}
      role="status"
      data-testid="connection-status"
      data-state={state}
    >
      <span className="connection-dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
