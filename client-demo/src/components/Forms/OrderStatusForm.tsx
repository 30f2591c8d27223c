import { useState, type FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { NEXT_STATUSES, type Order, type OrderStatus } from '../../lib/websocket/types';
import { Field, Outcome, SendButton } from './Field';

/** Offers only orders that can still move, and only the moves the server allows. */
export function OrderStatusForm({ orders }: { orders: Order[] }) {
  const update = useCommand('order:update');
  const [orderId, setOrderId] = useState('');
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const errors = update.error?.fields ?? {};
  const movable = orders.filter((order) => NEXT_STATUSES[order.status].length > 0);
  const moves = NEXT_STATUSES[orders.find((order) => String(order.id) === orderId)?.status ?? 'delivered'];
  // The first allowed move until another is picked (the order's status may have moved meanwhile).
  const next = status !== '' && moves.includes(status) ? status : moves[0];

  function submit(event: FormEvent) {
    event.preventDefault();
    update.run({ id: Number(orderId), status: next });
  }

  return (
    <form className="panel form" aria-label="Order status" onSubmit={submit}>
      <h3>Change an order's status</h3>
      <Field label="Order" error={errors.id}>
        <select name="id" value={orderId} onChange={(e) => setOrderId(e.target.value)}>
          <option value="">— choose —</option>
          {movable.map((order) => (
            <option key={order.id} value={order.id}>
              #{order.id} ({order.status})
            </option>
          ))}
        </select>
      </Field>
      <Field label="New status" error={errors.status}>
        <select
          name="status"
          value={next ?? ''}
          onChange={(e) => setStatus(e.target.value as OrderStatus)}
          disabled={moves.length === 0}
        >
          {moves.length === 0 && <option value="">—</option>}
          {moves.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </Field>
      <SendButton pending={update.pending}>Update status</SendButton>
      <Outcome command={update} describe={(order) => `Order #${order.id} is ${order.status}.`} />
    </form>
  );
}
