import type { InventoryItem } from '../../lib/websocket/types';

/** The `skus` suggestions every SKU input of the forms offers (`list="skus"`). */
export function SkuOptions({ inventory }: { inventory: InventoryItem[] }) {
  return (
    <datalist id="skus">
      {inventory.map((item) => (
        <option key={item.sku} value={item.sku}>
          {item.name}
        </option>
      ))}
    </datalist>
  );
}
