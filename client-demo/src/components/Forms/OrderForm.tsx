import { useState, type FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { formatMoney } from '../../lib/format';
import type { Client } from '../../lib/websocket/types';
import { Field, Outcome, SendButton } from './Field';

interface Line {
  sku: string;
  quantity: string;
  unit_price: string;
}

const NEW_LINE: Line = { sku: '', quantity: '1', unit_price: '' };

export function OrderForm({ clients }: { clients: Client[] }) {
  const create = useCommand('order:create');
  const [clientId, setClientId] = useState('');
  const [lines, setLines] = useState<Line[]>([NEW_LINE]);
  const [notes, setNotes] = useState('');
  const errors = create.error?.fields ?? {};

  const setLine = (index: number, change: Partial<Line>) =>
    setLines((current) => current.map((line, i) => (i === index ? { ...line, ...change } : line)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const order = await create.run({
      // The server validates: an unchosen client (0) or quantity comes back as a field error.
      client_id: Number(clientId),
      items: lines.map((line) => ({
        sku: line.sku.trim(),
        quantity: Number(line.quantity),
        unit_price: line.unit_price.trim(),
      })),
      notes: notes.trim() || undefined,
    });
    if (order) {
      setLines([NEW_LINE]);
      setNotes('');
    }
  }

  return (
    <form className="panel form" aria-label="New order" onSubmit={submit}>
      <h3>New order</h3>
      <Field label="Client" error={errors.client_id}>
        <select name="client_id" value={clientId} onChange={(e) => setClientId(e.target.value)}>
          <option value="">— choose —</option>
          {clients.map((client) => (
            <option key={client.id} value={client.id}>
              #{client.id} {client.name}
            </option>
          ))}
        </select>
      </Field>
      {lines.map((line, i) => (
        <fieldset key={i} className="line" aria-label={`Line ${i + 1}`}>
          <Field label="SKU" error={errors[`items[${i}].sku`]}>
            <input
              name={`items[${i}].sku`}
              value={line.sku}
              onChange={(e) => setLine(i, { sku: e.target.value })}
              list="skus"
            />
          </Field>
          <Field label="Quantity" error={errors[`items[${i}].quantity`]}>
            <input
              name={`items[${i}].quantity`}
              value={line.quantity}
              onChange={(e) => setLine(i, { quantity: e.target.value })}
              inputMode="numeric"
            />
          </Field>
          <Field label="Unit price" error={errors[`items[${i}].unit_price`]}>
            <input
              name={`items[${i}].unit_price`}
              value={line.unit_price}
              onChange={(e) => setLine(i, { unit_price: e.target.value })}
              placeholder="12.50"
            />
          </Field>
        </fieldset>
      ))}
      {errors.items && <span className="field-error">{errors.items}</span>}
      <button type="button" onClick={() => setLines([...lines, NEW_LINE])}>
        Add line
      </button>
      <Field label="Notes" error={errors.notes}>
        <input name="notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
      </Field>
      <SendButton pending={create.pending}>Create order</SendButton>
      <Outcome command={create} describe={(order) => `Order #${order.id} created: ${formatMoney(order.total)}.`} />
    </form>
  );
}
