import { useState } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useLiveStats } from '../../hooks/use-live-stats';
import { EventFeed } from './EventFeed';
import { RoomPicker, unfollowedTopics } from './RoomPicker';

/** What developers look at (rooms, raw events, the server's internals), closed by default. */
export function DeveloperSection({ admin }: { admin: boolean }) {
  const { rooms, session } = useWebSocketContext();
  const [open, setOpen] = useState(false);
  const unfollowed = unfollowedTopics(rooms, session !== null);
  return (
    <details className="panel developer" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span>Developer</span>
        {unfollowed.length > 0 && <span className="hint"> — not following {unfollowed.join(', ')}</span>}
      </summary>
      <div className="developer-body">
        <ConnectionDetails />
        <RoomPicker />
        {/* Mounted while closed too, so the feed has the events from before it was opened. */}
        <EventFeed />
        {admin && open && <ServerInternals />}
      </div>
    </details>
  );
}

function ConnectionDetails() {
  const { state, error, session, recovered } = useWebSocketContext();
  return (
    <section className="panel" aria-labelledby="connection-details-title">
      <h2 id="connection-details-title">Connection</h2>
      <dl className="pairs">
        <dt>State</dt>
        <dd>
          {state}
          {recovered && ' (session recovered)'}
        </dd>
        <dt>Socket id</dt>
        <dd>{session?.socket_id ?? '—'}</dd>
        <dt>Last error</dt>
        <dd>{error ?? 'none'}</dd>
      </dl>
    </section>
  );
}

/** `/ws/stats` beyond who is connected: messages, heartbeat, rooms. */
function ServerInternals() {
  const { stats } = useLiveStats();
  if (!stats) return null;
  const { metrics, heartbeat_interval, rooms } = stats.stats;
  return (
    <section className="panel" aria-labelledby="internals-title">
      <h2 id="internals-title">Live /ws/stats</h2>
      <dl className="pairs">
        <dt>Messages sent</dt>
        <dd>{metrics.total_messages_sent}</dd>
        <dt>Broadcasts</dt>
        <dd>{metrics.total_broadcasts}</dd>
        <dt>Send errors</dt>
        <dd>{metrics.total_send_errors}</dd>
        <dt>Heartbeat</dt>
        <dd>{heartbeat_interval} ms</dd>
      </dl>
      <table>
        <thead>
          <tr>
            <th>Room</th>
            <th className="num">Sockets</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(rooms).map(([room, count]) => (
            <tr key={room}>
              <td>{room}</td>
              <td className="num">{count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
