import { useEffect, useState, type FormEvent } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useCommand } from '../../hooks/use-command';
import { getJson, type StatsResponse } from '../../lib/api';
import { SEVERITIES, type Severity } from '../../lib/websocket/types';
import { Field, Outcome, SendButton, useFields } from '../Forms/Field';

const STATS_EVERY_MS = 2000;

/** Admins only: a test broadcast (refused by a production server) and live `/ws/stats`. */
export function AdminPanel() {
  return (
    <section className="panel admin" aria-labelledby="admin-title">
      <h2 id="admin-title">Admin</h2>
      <TestBroadcastForm />
      <LiveStats />
    </section>
  );
}

function TestBroadcastForm() {
  const broadcast = useCommand('admin:test_broadcast');
  const { values, bind } = useFields({ title: 'Test broadcast', content: 'Hello from the dashboard', level: 'info' });
  const errors = broadcast.error?.fields ?? {};

  function submit(event: FormEvent) {
    event.preventDefault();
    broadcast.run({ title: values.title, content: values.content, level: values.level as Severity });
  }

  return (
    <form className="form" aria-label="Test broadcast" onSubmit={submit}>
      <h3>Test broadcast</h3>
      <Field label="Title" error={errors.title}>
        <input {...bind('title')} />
      </Field>
      <Field label="Content" error={errors.content}>
        <input {...bind('content')} />
      </Field>
      <Field label="Level" error={errors.level}>
        <select {...bind('level')}>
          {SEVERITIES.map((level) => (
            <option key={level}>{level}</option>
          ))}
        </select>
      </Field>
      <SendButton pending={broadcast.pending}>Broadcast</SendButton>
      <Outcome command={broadcast} describe={(report) => `Sent to ${report.sent} sockets.`} />
    </form>
  );
}

function LiveStats() {
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
  const stale = state !== 'connected';

  return (
    <div className={stale ? 'stats stale' : 'stats'} data-testid="stats">
      <h3>Live /ws/stats</h3>
      {error && <p className="error">{error}</p>}
      {stats && stale && (
        <p className="stale-note">
          Stale: as of {new Date(stats.timestamp).toLocaleTimeString()}, before the connection was lost; not updated
          until it is back.
        </p>
      )}
      {stats && (
        <>
          <dl>
            <dt>Connections</dt>
            <dd data-testid="stats-connections">{stats.stats.total_connections}</dd>
            <dt>Users</dt>
            <dd>{stats.stats.unique_users}</dd>
            <dt>By role</dt>
            <dd>
              {Object.entries(stats.stats.connections_by_role)
                .map(([role, n]) => `${role}: ${n}`)
                .join(', ')}
            </dd>
            <dt>Messages sent</dt>
            <dd>{stats.stats.metrics.total_messages_sent}</dd>
            <dt>Broadcasts</dt>
            <dd>{stats.stats.metrics.total_broadcasts}</dd>
            <dt>Send errors</dt>
            <dd>{stats.stats.metrics.total_send_errors}</dd>
            <dt>Heartbeat</dt>
            <dd>{stats.stats.heartbeat_interval} ms</dd>
          </dl>
          <table>
            <thead>
              <tr>
                <th>Room</th>
                <th className="num">Sockets</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(stats.stats.rooms).map(([room, count]) => (
                <tr key={room}>
                  <td>{room}</td>
                  <td className="num">{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">as of {new Date(stats.timestamp).toLocaleTimeString()}</p>
        </>
      )}
    </div>
  );
}
