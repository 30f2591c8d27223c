import { useState } from 'react';
import type { LiveList } from '../../hooks/use-live-list';
import { useWebSocket } from '../../hooks/use-websocket';
import { formatDateTime, formatMoney } from '../../lib/format';
import type { Client, Order } from '../../lib/websocket/types';
import { ListStatus } from '../Common/ListStatus';

interface OrdersTableProps {
  orders: LiveList<Order>;
  clients: Client[];
}

/** Orders, newest first: live ones slide in, a status change flashes its badge. */
export function OrdersTable({ orders, clients }: OrdersTableProps) {
  const [arrived, setArrived] = useState<ReadonlySet<number>>(new Set());
  const [moved, setMoved] = useState<ReadonlySet<number>>(new Set());
  useWebSocket('order_created', ({ data }) => setArrived((ids) => new Set(ids).add(data.id)));
  useWebSocket('order_status_changed', ({ data }) => setMoved((ids) => new Set(ids).add(data.order_id)));
  const clientName = (id: number) => clients.find((client) => client.id === id)?.name ?? `#${id}`;

  return (
    <section className="panel" aria-labelledby="orders-title">
      <h2 id="orders-title">Orders</h2>
      <table data-testid="orders-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Placed</th>
            <th>Client</th>
            <th>Lines</th>
            <th className="num">Total</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {orders.items.map((order) => (
            <tr key={order.id} data-order-id={order.id} className={arrived.has(order.id) ? 'row-new' : undefined}>
              <td>{order.id}</td>
              <td>
                <time dateTime={order.created_at}>{formatDateTime(order.created_at)}</time>
              </td>
              <td>{clientName(order.client_id)}</td>
              <td>{order.items.map((line) => `${line.sku} × ${line.quantity}`).join(', ')}</td>
              <td className="num">{formatMoney(order.total)}</td>
              <td>
                <span
                  key={order.status}
                  className={`status status-${order.status}${moved.has(order.id) ? ' status-moved' : ''}`}
                >
                  {order.status}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListStatus list={orders} empty="No orders yet." />
    </section>
  );
}
