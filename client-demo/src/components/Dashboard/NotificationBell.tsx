import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useCommand } from '../../hooks/use-command';
import { useNotifications } from '../../hooks/use-dashboard-data';
import { formatDateTime } from '../../lib/format';
import { refusalInWords } from '../../lib/in-words';
import { ListStatus } from '../Common/ListStatus';

const INBOX_ID = 'notification-inbox';

/** The unread count, pushed by the server to every tab; it opens and closes the inbox. */
export function NotificationBell({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const { unreadCount } = useWebSocketContext();
  return (
    <div className="bell">
      <button type="button" onClick={onToggle} aria-expanded={open} aria-controls={open ? INBOX_ID : undefined}>
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <path d="M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
        </svg>
        <span className="visually-hidden">Notifications</span>
        {unreadCount !== null && (
          <>
            {' '}
            <span className="count" data-testid="unread-count">
              {unreadCount}
            </span>
            <span className="visually-hidden"> unread</span>
          </>
        )}
      </button>
    </div>
  );
}

/** The user's notifications, in the page's flow under the top bar, so it covers no panel. */
export function NotificationInbox() {
  const { unreadCount, state } = useWebSocketContext();
  const offline = state !== 'connected';
  const notifications = useNotifications();
  const markRead = useCommand('mark_read');
  const markAllRead = useCommand('mark_all_read');
  const error = markRead.error ?? markAllRead.error;

  return (
    <section id={INBOX_ID} className="inbox panel" aria-labelledby="inbox-title">
      <h2 id="inbox-title">Notifications</h2>
      <button
        type="button"
        onClick={() => markAllRead.run({})}
        disabled={offline || markAllRead.pending || unreadCount === 0}
      >
        Mark all read
      </button>
      {error && <p className="error">{refusalInWords(error)}</p>}
      <ListStatus list={notifications} empty="No notifications yet." />
      <ul>
        {notifications.items.map((notification) => (
          <li
            key={notification.id}
            className={notification.read ? 'read' : 'unread'}
            data-notification-id={notification.id}
          >
            <strong>{notification.subject}</strong>{' '}
            <span className={`severity severity-${notification.severity}`}>{notification.severity}</span>
            <p>{notification.message}</p>
            <time dateTime={notification.created_at}>{formatDateTime(notification.created_at)}</time>
            {!notification.read && (
              <button
                type="button"
                disabled={offline}
                onClick={() => markRead.run({ notification_id: notification.id })}
              >
                Mark read
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
