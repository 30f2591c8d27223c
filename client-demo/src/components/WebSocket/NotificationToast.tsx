import { useCallback, useEffect, useState } from 'react';
import { useWebSocket } from '../../hooks/use-websocket';
import { formatDateTime } from '../../lib/format';
import type { Notification } from '../../lib/websocket/types';

const SHOW_FOR_MS = 8000;

/** Shows each `notification` that arrives as a toast for a few seconds. */
export function NotificationToasts() {
  const [toasts, setToasts] = useState<Notification[]>([]);
  useWebSocket('notification', ({ data }) => setToasts((shown) => [...shown, data]));
  const dismiss = useCallback((id: number) => setToasts((shown) => shown.filter((t) => t.id !== id)), []);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((notification) => (
        <NotificationToast key={notification.id} notification={notification} onDismiss={dismiss} />
      ))}
    </div>
  );
}

interface NotificationToastProps {
  notification: Notification;
  onDismiss: (id: number) => void;
}

export function NotificationToast({ notification, onDismiss }: NotificationToastProps) {
  const { id, subject, message, severity, created_at } = notification;
  useEffect(() => {
    const timer = setTimeout(() => onDismiss(id), SHOW_FOR_MS);
    return () => clearTimeout(timer);
  }, [id, onDismiss]);
  return (
    <div className={`toast toast-${severity}`} role="alert" data-testid="toast">
      <strong>{subject}</strong>
      <p>{message}</p>
      <time dateTime={created_at}>{formatDateTime(created_at)}</time>
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => onDismiss(id)}>
        ×
      </button>
    </div>
  );
}
