import { useLowStock, type LowStockItem } from '../../hooks/use-dashboard-data';
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
            <strong>{item.sku}</strong> {item.name}: {describeLowStock(item)}
            <time dateTime={item.updated_at}>{new Date(item.updated_at).toLocaleTimeString()}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** `2 left (threshold 3)`, and when a person reported it, that and their note. */
export function describeLowStock(item: Pick<LowStockItem, 'quantity' | 'low_stock_threshold' | 'reported' | 'note'>) {
  const report = item.reported ? ` — reported${item.note ? `: ${item.note}` : ''}` : '';
  return `${item.quantity} left (threshold ${item.low_stock_threshold})${report}`;
}
