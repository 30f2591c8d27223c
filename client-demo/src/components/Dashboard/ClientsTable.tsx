import type { LiveList } from '../../hooks/use-live-list';
import { formatDateTime } from '../../lib/format';
import type { Client } from '../../lib/websocket/types';
import { ListStatus } from '../Common/ListStatus';

/** The store's clients, newest first, kept live. */
export function ClientsTable({ clients }: { clients: LiveList<Client> }) {
  return (
    <section className="panel" aria-labelledby="clients-title">
      <h2 id="clients-title">Clients</h2>
      <table data-testid="clients-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Phone</th>
            <th>Client since</th>
          </tr>
        </thead>
        <tbody>
          {clients.items.map((client) => (
            <tr key={client.id} data-client-id={client.id}>
              <td>{client.name}</td>
              <td>{client.email ?? '—'}</td>
              <td>{client.phone ?? '—'}</td>
              <td>
                <time dateTime={client.created_at}>{formatDateTime(client.created_at)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListStatus list={clients} empty="No clients yet." />
    </section>
  );
}
