// The dashboard's lists: loaded over REST, then kept current by their live events.
import type { Client, InventoryItem, Notification, Order } from '../lib/websocket/types';
import { useLiveList, type LiveList } from './use-live-list';
import { useWebSocket } from './use-websocket';

const byId = (entity: { id: number }) => entity.id;
const bySku = (item: { sku: string }) => item.sku;

/** Newest first, like `GET /api/orders`. */
export function useOrders(): LiveList<Order> {
  const orders = useLiveList<Order>('/api/orders?limit=100', byId);
  useWebSocket('order_created', ({ data }) => orders.apply(data));
  useWebSocket('order_updated', ({ data }) => orders.apply(data));
  return orders;
}

export function useInventory(): LiveList<InventoryItem> {
  const inventory = useLiveList<InventoryItem>('/api/inventory?limit=200', bySku);
  useWebSocket('inventory_updated', ({ data }) => inventory.apply(data));
  return inventory;
}

export function useClients(): LiveList<Client> {
  const clients = useLiveList<Client>('/api/clients?limit=200', byId);
  useWebSocket('client_created', ({ data }) => clients.apply(data));
  useWebSocket('client_updated', ({ data }) => clients.apply(data));
  return clients;
}

/** This user's inbox, newest first; read confirmations from any tab mark items read. */
export function useNotifications(): LiveList<Notification> {
  const notifications = useLiveList<Notification>('/api/notifications?limit=20', byId);
  useWebSocket('notification', ({ data }) => notifications.apply(data));
  useWebSocket('notification_read_confirmation', ({ data }) => {
    for (const notification of notifications.items) {
      if (!notification.read && data.notification_ids.includes(notification.id)) {
        notifications.apply({ ...notification, read: true });
      }
    }
  });
  return notifications;
}

/** An item at or below its threshold, as the alerts panel shows it. */
export type LowStockItem = Pick<
  InventoryItem,
  'sku' | 'name' | 'quantity' | 'low_stock_threshold' | 'low_stock' | 'updated_at'
> & { reported?: boolean; note?: string | null };

/**
 * Items low on stock now: loaded from the server (`?low_stock=true`), then kept by the
 * events. `inventory_updated` carries the item's stock, so the item enters or leaves the
 * list with it; `stock_low` (from the `alerts` room, which a page may follow without
 * `inventory`) puts its item in, a user's report with its note until the stock next changes.
 */
export function useLowStock(): LiveList<LowStockItem> {
  const list = useLiveList<LowStockItem>('/api/inventory?low_stock=true&limit=200', bySku);
  useWebSocket('inventory_updated', ({ data }) => list.apply(data));
  useWebSocket('stock_low', ({ data, timestamp }) =>
    list.apply({
      sku: data.sku,
      name: data.name,
      quantity: data.quantity,
      low_stock_threshold: data.threshold,
      low_stock: true,
      updated_at: timestamp,
      reported: data.source === 'report',
      note: data.note,
    }),
  );
  return { ...list, items: list.items.filter((item) => item.low_stock) };
}
