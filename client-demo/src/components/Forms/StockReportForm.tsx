import type { FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { Field, Outcome, SendButton, optionalNumber, useFields } from './Field';

/** `stock_low`: staff tell everyone an item is running low, whatever its threshold says. */
export function StockReportForm() {
  const report = useCommand('stock_low');
  const { values, bind, reset } = useFields({ sku: '', quantity: '', note: '' });
  const errors = report.error?.fields ?? {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    const done = await report.run({
      sku: values.sku.trim(),
      quantity: optionalNumber(values.quantity),
      note: values.note.trim() || undefined,
    });
    if (done) reset();
  }

  return (
    <form className="panel form" aria-label="Report low stock" onSubmit={submit}>
      <h3>Report low stock</h3>
      <Field label="SKU" error={errors.sku}>
        <input {...bind('sku')} list="skus" />
      </Field>
      <Field label="Quantity counted (optional)" error={errors.quantity}>
        <input {...bind('quantity')} inputMode="numeric" />
      </Field>
      <Field label="Note (optional)" error={errors.note}>
        <input {...bind('note')} placeholder="e.g. shelf almost empty" />
      </Field>
      <SendButton pending={report.pending}>Report</SendButton>
      <Outcome command={report} describe={(low) => `Reported: ${low.sku} ${low.name}, ${low.quantity} left.`} />
    </form>
  );
}
