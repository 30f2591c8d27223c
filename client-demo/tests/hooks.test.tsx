// @vitest-environment happy-dom
// @vitest-environment-options { "url": "http://localhost:5173/" }
// The provider and hooks in a DOM, against the real server (from the dev server's origin,
// which pulso's default CORS setting allows).
import { act, cleanup, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { useWebSocketContext, WebSocketProvider } from '../src/contexts/WebSocketContext';
import { useCommand } from '../src/hooks/use-command';
import { useClients, useOrders } from '../src/hooks/use-dashboard-data';
import { usePresence } from '../src/hooks/use-presence';
import { useWebSocket } from '../src/hooks/use-websocket';
import type { AuthPayload } from '../src/lib/websocket/client';
import type { Client, Envelope } from '../src/lib/websocket/types';
import { API_KEYS } from './pulso-server';

const url = inject('pulsoUrl');
const WAIT = { timeout: 5000, interval: 20 };

afterEach(cleanup);

function providerFor(auth: AuthPayload) {
  return ({ children }: { children: ReactNode }) => (
    <WebSocketProvider url={url} auth={auth}>
      {children}
    </WebSocketProvider>
  );
}

describe('WebSocketProvider', () => {
  it('connects, shares the connection state, and disconnects when unmounted', async () => {
    const { result, unmount } = renderHook(() => useWebSocketContext(), {
      wrapper: providerFor({ api_key: API_KEYS.staff, user_id: 'hook-user' }),
    });
    expect(result.current.state).toBe('connecting');
    await vi.waitFor(() => expect(result.current.state).toBe('connected'), WAIT);
    await vi.waitFor(() => expect(result.current.unreadCount).toBe(0), WAIT);
    expect(result.current.session).toMatchObject({ user_id: 'hook-user', role: 'staff' });
    expect(result.current.rooms).toEqual(['alerts', 'clients', 'inventory', 'orders']);

    const { socket } = result.current.client;
    unmount();
    expect(socket.connected).toBe(false);
  });

  it('shows a refused connection as disconnected, with the reason', async () => {
    const { result } = renderHook(() => useWebSocketContext(), { wrapper: providerFor({ token: 'expired.or.bogus' }) });
    await vi.waitFor(() => expect(result.current.state).toBe('disconnected'), WAIT);
    expect(result.current.error).toMatch(/^unauthorized/);
  });
});

describe('useWebSocket', () => {
  it('calls the latest handler for each event, and unsubscribes on unmount', async () => {
    const first = vi.fn<(event: Envelope<Client>) => void>();
    const second = vi.fn<(event: Envelope<Client>) => void>();
    const { result, rerender, unmount } = renderHook(
      ({ handler }) => {
        useWebSocket('client_created', handler);
        return { ...useCommand('client:create'), client: useWebSocketContext().client };
      },
      { wrapper: providerFor({ api_key: API_KEYS.admin, user_id: 'hooked' }), initialProps: { handler: first } },
    );

    await act(() => result.current.run({ name: 'Hook One' }));
    await vi.waitFor(
      () =>
        expect(first).toHaveBeenCalledWith(
          expect.objectContaining({ type: 'client_created', data: expect.objectContaining({ name: 'Hook One' }) }),
        ),
      WAIT,
    );

    rerender({ handler: second });
    await act(() => result.current.run({ name: 'Hook Two' }));
    await vi.waitFor(
      () =>
        expect(second).toHaveBeenCalledWith(
          expect.objectContaining({ data: expect.objectContaining({ name: 'Hook Two' }) }),
        ),
      WAIT,
    );
    expect(first).toHaveBeenCalledTimes(1);
    expect(result.current.result).toMatchObject({ name: 'Hook Two' });

    const { socket } = result.current.client;
    expect(socket.listeners('client_created')).toHaveLength(1);
    unmount();
    expect(socket.listeners('client_created')).toHaveLength(0);
  });
});

describe('useCommand', () => {
  it('keeps the ack error with its field messages', async () => {
    const { result } = renderHook(() => useCommand('order:create'), {
      wrapper: providerFor({ api_key: API_KEYS.staff, user_id: 'form-user' }),
    });
    const data = await act(() => result.current.run({ client_id: 0, items: [] }));
    expect(data).toBeNull();
    expect(result.current.error?.code).toBe('invalid');
    expect(result.current.error?.fields).toHaveProperty('client_id');
    expect(result.current.pending).toBe(false);
  });
});

describe('useOrders', () => {
  it('loads the orders over REST, then adds live ones', async () => {
    const { result } = renderHook(
      () => ({
        orders: useOrders(),
        createClient: useCommand('client:create'),
        createOrder: useCommand('order:create'),
        stock: useCommand('inventory:update'),
      }),
      { wrapper: providerFor({ api_key: API_KEYS.admin, user_id: 'lister' }) },
    );
    await vi.waitFor(() => expect(result.current.orders.loaded).toBe(true), WAIT);
    const before = result.current.orders.items.length;

    const client = await act(() => result.current.createClient.run({ name: 'Live List Co' }));
    await act(() => result.current.stock.run({ sku: 'LIVE-1', name: 'Live', quantity: 10 }));
    const order = await act(() =>
      result.current.createOrder.run({
        client_id: client!.id,
        items: [{ sku: 'LIVE-1', quantity: 2, unit_price: '3.50' }],
      }),
    );
    expect(order).toMatchObject({ total: '7.00', status: 'pending' });

    await vi.waitFor(() => expect(result.current.orders.items[0]?.id).toBe(order!.id), WAIT);
    expect(result.current.orders.items).toHaveLength(before + 1);
    expect(result.current.orders.error).toBeNull();
  });
});

describe('usePresence', () => {
  it("starts from the server's list, then follows arrivals and departures", async () => {
    const { result } = renderHook(() => usePresence(), {
      wrapper: providerFor({ api_key: API_KEYS.viewer, user_id: 'present-1' }),
    });
    const present = (user_id: string, role: string) => expect.arrayContaining([{ user_id, role }]);
    await vi.waitFor(() => expect(result.current.items).toEqual(present('present-1', 'viewer')), WAIT);
    expect(result.current.loaded).toBe(true);

    const other = renderHook(() => useWebSocketContext(), {
      wrapper: providerFor({ api_key: API_KEYS.staff, user_id: 'present-2' }),
    });
    await vi.waitFor(() => expect(result.current.items).toEqual(present('present-2', 'staff')), WAIT);
    other.unmount();
    await vi.waitFor(() => expect(result.current.items).not.toEqual(present('present-2', 'staff')), WAIT);
  });
});

describe('a recovered connection', () => {
  it('keeps the list and applies the missed events instead of reloading it', async () => {
    const { result } = renderHook(() => ({ clients: useClients(), connection: useWebSocketContext() }), {
      wrapper: providerFor({ api_key: API_KEYS.admin, user_id: 'recovering' }),
    });
    await vi.waitFor(() => expect(result.current.clients.loaded).toBe(true), WAIT);
    const fetches = vi.spyOn(globalThis, 'fetch');
    const back = new Promise<void>((resolve) => result.current.connection.client.socket.once('connect', () => resolve()));

    // The transport drops (as on a network blip); clients are created meanwhile.
    act(() => result.current.connection.client.socket.io.engine.close());
    const created: number[] = [];
    for (const name of ['Missed One', 'Missed Two']) {
      const response = await fetch(`${url}/api/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEYS.admin, 'x-user-id': 'recovering' },
        body: JSON.stringify({ name }),
      });
      created.push((await response.json()).id);
    }
    await back;

    await vi.waitFor(() => expect(result.current.connection.state).toBe('connected'), WAIT);
    expect(result.current.connection.recovered).toBe(true);
    await vi.waitFor(
      () => expect(result.current.clients.items.slice(0, 2).map((c) => c.id)).toEqual(created.reverse()),
      WAIT,
    );
    const reloads = fetches.mock.calls.filter(([input]) => String(input).includes('/api/clients?'));
    expect(reloads).toEqual([]);
    fetches.mockRestore();
  });
});
