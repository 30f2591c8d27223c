// Amounts and moments as the reader's browser writes them.

/**
 * The store's currency (ISO 4217): amounts on the wire carry none. Set `VITE_CURRENCY`
 * when building for a store that does not count in US dollars.
 */
const CURRENCY: string = import.meta.env.VITE_CURRENCY || 'USD';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY });
const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** `"20.00"` (the server's decimal string) as `$20.00`. */
export function formatMoney(amount: string): string {
  return money.format(Number(amount));
}

/** An ISO timestamp as a date and time, e.g. `Dec 4, 2026, 2:45 PM`. */
export function formatDateTime(iso: string): string {
  return dateAndTime.format(new Date(iso));
}
