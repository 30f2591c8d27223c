import { useState } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useClients, useInventory, useOrders } from '../../hooks/use-dashboard-data';
import { connectionRefusalInWords } from '../../lib/in-words';
import { ClientForm } from '../Forms/ClientForm';
import { ItemForm } from '../Forms/ItemForm';
import { OrderForm } from '../Forms/OrderForm';
import { OrderStatusForm } from '../Forms/OrderStatusForm';
import { SkuOptions } from '../Forms/SkuOptions';
import { StockReportForm } from '../Forms/StockReportForm';
import { ConnectionProblem } from '../WebSocket/ConnectionProblem';
import { ConnectionStatus } from '../WebSocket/ConnectionStatus';
import { NotificationToasts } from '../WebSocket/NotificationToast';
import { AdminPanel } from './AdminPanel';
import { AlertsPanel } from './AlertsPanel';
import { ClientsTable } from './ClientsTable';
import { DeveloperSection } from './DeveloperSection';
import { FiguresPanel } from './FiguresPanel';
import { InventoryTable } from './InventoryTable';
import { NotificationBell, NotificationInbox } from './NotificationBell';
import { OrdersTable } from './OrdersTable';
import { PresencePanel } from './PresencePanel';

export function Dashboard({ onSignOut }: { onSignOut: () => void }) {
  const { session, state, error } = useWebSocketContext();
  const orders = useOrders();
  const inventory = useInventory();
  const clients = useClients();
  const [inboxOpen, setInboxOpen] = useState(false);

  if (!session && state === 'disconnected') {
    return (
      <main className="sign-in">
        <div className="panel" role="alert">
          <h2>The server refused the connection</h2>
          <p className="error" data-testid="refusal">
            {connectionRefusalInWords(error)}
          </p>
          <button type="button" onClick={onSignOut}>
            Back to sign-in
          </button>
        </div>
      </main>
    );
  }

  const role = session?.role;
  return (
    <>
      <header className="topbar">
        <h1>pulso</h1>
        <ConnectionStatus />
        {session && (
          <span className="who" data-testid="who">
            {session.user_id} ({session.role})
          </span>
        )}
        <NotificationBell open={inboxOpen} onToggle={() => setInboxOpen(!inboxOpen)} />
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <ConnectionProblem />
      {inboxOpen && <NotificationInbox />}
      <main className="grid">
        <OrdersTable orders={orders} clients={clients.items} />
        <InventoryTable inventory={inventory} />
        <FiguresPanel />
        <AlertsPanel />
        <ClientsTable clients={clients} />
        <PresencePanel />
        {(role === 'admin' || role === 'staff') && (
          <section className="forms" aria-label="Commands">
            <ClientForm />
            <ItemForm />
            <OrderForm clients={clients.items} />
            <OrderStatusForm orders={orders.items} />
            <StockReportForm />
            <SkuOptions inventory={inventory.items} />
          </section>
        )}
        {role === 'admin' && <AdminPanel />}
        <DeveloperSection admin={role === 'admin'} />
      </main>
      <NotificationToasts />
    </>
  );
}
