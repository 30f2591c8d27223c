import { useLowStock } from '../../hooks/use-dashboard-data';
import { ListStatus } from '../Common/ListStatus';

/** Every item at or below its threshold now, the latest change first. */
export function AlertsPanel() {
  const low = useLowStock();
  return (
    <section className="panel alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Stock alerts</h2>
      <ListStatus list={low} empty="No item is low on stock." />
      <ul data-testid="alerts">
        {low.items.map((item) => (
          <li key={item.sku} data-sku={item.sku}>
            <strong>{item.sku}</strong> {item.name}: {item.quantity} left (threshold {item.low_stock_threshold})
            {item.reported && ` — reported${item.note ? `: ${item.note}` : ''}`}
            <time dateTime={item.updated_at}>{new Date(item.updated_at).toLocaleTimeString()}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}
