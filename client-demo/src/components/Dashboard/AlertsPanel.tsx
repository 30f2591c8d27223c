import { useState } from 'react';
import { useWebSocket } from '../../hooks/use-websocket';
import type { Envelope, StockLow } from '../../lib/websocket/types';

const KEEP = 20;

/** Stock-low alerts as they arrive, newest first. */
export function AlertsPanel() {
  const [alerts, setAlerts] = useState<Envelope<StockLow>[]>([]);
  useWebSocket('stock_low', (alert) => setAlerts((shown) => [alert, ...shown].slice(0, KEEP)));
  return (
    <section className="panel alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Stock alerts</h2>
      {alerts.length === 0 && <p className="empty">No alerts since you opened the dashboard.</p>}
      <ul data-testid="alerts">
        {alerts.map(({ id, data, timestamp }) => (
          <li key={id}>
            <strong>{data.sku}</strong> {data.name}: {data.quantity} left (threshold {data.threshold})
            {data.source === 'report' && ` — reported${data.note ? `: ${data.note}` : ''}`}
            <time dateTime={timestamp}>{new Date(timestamp).toLocaleTimeString()}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}
