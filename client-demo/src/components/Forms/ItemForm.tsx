import type { FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { Field, Outcome, SendButton, optionalNumber, useFields } from './Field';

/** `inventory:update`: an unknown SKU with a name is created; a known one is changed. */
export function ItemForm() {
  const update = useCommand('inventory:update');
  const { values, bind, reset } = useFields({ sku: '', name: '', quantity: '', threshold: '' });
  const errors = update.error?.fields ?? {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    const done = await update.run({
      sku: values.sku.trim(),
      name: values.name.trim() || undefined,
      quantity: optionalNumber(values.quantity),
      low_stock_threshold: optionalNumber(values.threshold),
    });
    if (done) reset();
  }

  return (
    <form className="panel form" aria-label="Item" onSubmit={submit}>
      <h3>New or changed item</h3>
      <Field label="SKU" error={errors.sku}>
        <input {...bind('sku')} />
      </Field>
      <Field label="Name" error={errors.name}>
        <input {...bind('name')} />
      </Field>
      <Field label="Quantity" error={errors.quantity}>
        <input {...bind('quantity')} inputMode="numeric" />
      </Field>
      <Field label="Low-stock threshold" error={errors.low_stock_threshold}>
        <input {...bind('threshold')} inputMode="numeric" />
      </Field>
      <SendButton pending={update.pending}>Save item</SendButton>
      <Outcome command={update} describe={(item) => `${item.sku} saved: ${item.quantity} in stock.`} />
    </form>
  );
}
