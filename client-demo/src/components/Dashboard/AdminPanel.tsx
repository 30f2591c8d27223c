import type { FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { useLiveStats } from '../../hooks/use-live-stats';
import { SEVERITIES, type Severity } from '../../lib/websocket/types';
import { StaleNote } from '../Common/StaleNote';
import { Field, Outcome, SendButton, useFields } from '../Forms/Field';

/**
 * Admins only: a notification to one user or everyone, a test broadcast (refused by a
 * production server), and who is connected.
 */
export function AdminPanel() {
  return (
    <section className="panel admin" aria-labelledby="admin-title">
      <h2 id="admin-title">Admin</h2>
      <SendNotificationForm />
      <TestBroadcastForm />
      <LiveStats />
    </section>
  );
}

/** `notification:send`, as the plan's `emit_notification(message, user_id, severity)`. */
function SendNotificationForm() {
  const send = useCommand('notification:send');
  const { values, bind, reset } = useFields({ user_id: '', subject: '', message: '', severity: 'info' });
  const errors = send.error?.fields ?? {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    const sent = await send.run({
      user_id: values.user_id.trim() || null,
      subject: values.subject,
      message: values.message,
      severity: values.severity as Severity,
    });
    if (sent) reset();
  }

  return (
    <form className="form" aria-label="Send a notification" onSubmit={submit}>
      <h3>Send a notification</h3>
      <Field label="To user id (empty: everyone)" error={errors.user_id}>
        <input {...bind('user_id')} placeholder="e.g. sam" />
      </Field>
      <Field label="Subject" error={errors.subject}>
        <input {...bind('subject')} />
      </Field>
      <Field label="Message" error={errors.message}>
        <textarea {...bind('message')} rows={2} />
      </Field>
      <Field label="Severity" error={errors.severity}>
        <select {...bind('severity')}>
          <SeverityOptions />
        </select>
      </Field>
      <SendButton pending={send.pending}>Send</SendButton>
      <Outcome
        command={send}
        describe={(notification) => `"${notification.subject}" sent to ${notification.user_id ?? 'everyone'}.`}
      />
    </form>
  );
}

function SeverityOptions() {
  return SEVERITIES.map((severity) => <option key={severity}>{severity}</option>);
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
          <SeverityOptions />
        </select>
      </Field>
      <SendButton pending={broadcast.pending}>Broadcast</SendButton>
      <Outcome command={broadcast} describe={(report) => `Sent to ${report.sent} sockets.`} />
    </form>
  );
}

/** Who is connected, for the admin; the server's internals are in the Developer section. */
function LiveStats() {
  const { stats, error, stale } = useLiveStats();
  return (
    <div className={stale ? 'stats stale' : 'stats'} data-testid="stats">
      <h3>Connections now</h3>
      {error && <p className="error">{error}</p>}
      {stats && <StaleNote asOf={stats.timestamp} />}
      {stats && (
        <dl>
          <dt>Connections</dt>
          <dd data-testid="stats-connections">{stats.stats.total_connections}</dd>
          <dt>People</dt>
          <dd>{stats.stats.unique_users}</dd>
          <dt>By role</dt>
          <dd>
            {Object.entries(stats.stats.connections_by_role)
              .map(([role, n]) => `${role}: ${n}`)
              .join(', ')}
          </dd>
        </dl>
      )}
    </div>
  );
}
