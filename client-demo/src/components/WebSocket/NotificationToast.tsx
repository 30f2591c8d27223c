import { useCallback, useEffect, useState } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useWebSocket } from '../../hooks/use-websocket';
import { formatDateTime } from '../../lib/format';
import type { Notification } from '../../lib/websocket/types';
import { describeLowStock } from '../Dashboard/AlertsPanel';

const SHOW_FOR_MS = 8000;

/** What a toast shows: a notification, or a stock-low alert put the same way. */
export type ToastContent = Pick<Notification, 'subject' | 'message' | 'severity' | 'created_at'> & { key: string };

/** Shows each `notification`, and for staff each `stock_low`, as a toast for a few seconds. */
export function NotificationToasts() {
  const { session } = useWebSocketContext();
  const [toasts, setToasts] = useState<ToastContent[]>([]);
  const show = (toast: ToastContent) => setToasts((shown) => [...shown, toast]);
  useWebSocket('notification', ({ data }) => show({ ...data, key: `notification-${data.id}` }));
  // Staff act on low stock; viewers see it in the alerts panel only.
  useWebSocket('stock_low', ({ id, data, timestamp }) => {
    if (session?.role === 'viewer') return;
    show({
      key: `stock-low-${id}`,
      subject: `Low stock: ${data.sku} ${data.name}`,
      message: describeLowStock({
        quantity: data.quantity,
        low_stock_threshold: data.threshold,
        reported: data.source === 'report',
        note: data.note,
      }),
      severity: 'warning',
      created_at: timestamp,
    });
  });
  const dismiss = useCallback((key: string) => setToasts((shown) => shown.filter((t) => t.key !== key)), []);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <NotificationToast key={toast.key} notification={toast} onDismiss={dismiss} />
      ))}
    </div>
  );
}

interface NotificationToastProps {
  notification: ToastContent;
  onDismiss: (key: string) => void;
}

export function NotificationToast({ notification, onDismiss }: NotificationToastProps) {
  const { key, subject, message, severity, created_at } = notification;
  useEffect(() => {
    const timer = setTimeout(() => onDismiss(key), SHOW_FOR_MS);
    return () => clearTimeout(timer);
  }, [key, onDismiss]);
  return (
    <div className={`toast toast-${severity}`} role="alert" data-testid="toast">
      <strong>{subject}</strong>
      <p>{message}</p>
      <time dateTime={created_at}>{formatDateTime(created_at)}</time>
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => onDismiss(key)}>
        ×
      </button>
    </div>
  );
}
