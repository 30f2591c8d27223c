import { Fragment } from 'react';
import { useSummary } from '../../hooks/use-summary';
import { formatMoney } from '../../lib/format';
import { ORDER_STATUSES } from '../../lib/websocket/types';
import { NotLoaded } from '../Common/ListStatus';
import { StaleNote } from '../Common/StaleNote';

/** The server's business figures, kept live. */
export function FiguresPanel() {
  const { summary, error } = useSummary();
  return (
    <section className="panel figures" aria-labelledby="figures-title">
      <h2 id="figures-title">Figures</h2>
      {error && <p className="error">{error}</p>}
      {!summary && !error && <NotLoaded />}
      {summary && (
        <>
          <StaleNote asOf={summary.as_of} />
          <dl>
            <dt>Orders today</dt>
            <dd data-testid="orders-today">{summary.orders_today}</dd>
            <dt>Revenue today</dt>
            <dd data-testid="revenue-today">{formatMoney(summary.revenue_today)}</dd>
            <dt>Items low on stock</dt>
            <dd data-testid="low-stock-items">{summary.low_stock_items}</dd>
            {ORDER_STATUSES.map((status) => (
              <Fragment key={status}>
                <dt>Orders {status}</dt>
                <dd data-testid={`orders-${status}`}>{summary.orders_by_status[status]}</dd>
              </Fragment>
            ))}
          </dl>
          <p className="empty">Today is since midnight UTC; revenue leaves out cancelled orders.</p>
        </>
      )}
    </section>
  );
}
