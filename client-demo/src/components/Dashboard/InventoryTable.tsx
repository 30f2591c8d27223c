import type { LiveList } from '../../hooks/use-live-list';
import type { InventoryItem } from '../../lib/websocket/types';
import { ListStatus } from '../Common/ListStatus';

/** Items by SKU; those at or below their threshold are highlighted. */
export function InventoryTable({ inventory }: { inventory: LiveList<InventoryItem> }) {
  const items = [...inventory.items].sort((a, b) => a.sku.localeCompare(b.sku));
  return (
    <section className="panel" aria-labelledby="inventory-title">
      <h2 id="inventory-title">Inventory</h2>
      <table data-testid="inventory-table">
        <thead>
          <tr>
            <th>SKU</th>
            <th>Name</th>
            <th className="num">Quantity</th>
            <th className="num">Threshold</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr
              key={item.sku}
              data-sku={item.sku}
              data-low={item.low_stock}
              className={item.low_stock ? 'low' : undefined}
            >
              <td>{item.sku}</td>
              <td>
                {item.name} {item.low_stock && <span className="badge">low</span>}
              </td>
              <td className="num">{item.quantity}</td>
              <td className="num">{item.low_stock_threshold}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListStatus list={inventory} empty="No items yet." />
    </section>
  );
}
