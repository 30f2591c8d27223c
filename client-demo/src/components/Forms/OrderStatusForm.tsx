import { useState, type FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { ORDER_STATUSES, type Order, type OrderStatus } from '../../lib/websocket/types';
import { Field, Outcome, SendButton } from './Field';

export function OrderStatusForm({ orders }: { orders: Order[] }) {
  const update = useCommand('order:update');
  const [orderId, setOrderId] = useState('');
  const [status, setStatus] = useState<OrderStatus>('confirmed');
  const errors = update.error?.fields ?? {};

  function submit(event: FormEvent) {
    event.preventDefault();
    update.run({ id: Number(orderId), status });
  }

  return (
    <form className="panel form" aria-label="Order status" onSubmit={submit}>
      <h3>Change an order's status</h3>
      <Field label="Order" error={errors.id}>
        <select name="id" value={orderId} onChange={(e) => setOrderId(e.target.value)}>
          <option value="">— choose —</option>
          {orders.map((order) => (
            <option key={order.id} value={order.id}>
              #{order.id} ({order.status})
            </option>
          ))}
        </select>
      </Field>
      <Field label="New status" error={errors.status}>
        <select name="status" value={status} onChange={(e) => setStatus(e.target.value as OrderStatus)}>
          {ORDER_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </Field>
      <SendButton pending={update.pending}>Update status</SendButton>
      <Outcome command={update} describe={(order) => `Order #${order.id} is ${order.status}.`} />
    </form>
  );
}
