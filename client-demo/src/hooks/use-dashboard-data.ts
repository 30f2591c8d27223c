// The dashboard's lists: loaded over REST, then kept current by their live events.
import type { Client, InventoryItem, Notification, Order } from '../lib/websocket/types';
import { useLiveList, type LiveList } from './use-live-list';
import { useWebSocket } from './use-websocket';

const byId = (entity: { id: number }) => entity.id;
const bySku = (item: InventoryItem) => item.sku;

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
