// PulsoClient against the real server.
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { PulsoClient, type AuthPayload, type ClientOptions, type ConnectionState } from '../src/lib/websocket/client';
import type { Envelope, InventoryItem, ServerEventName, ServerEvents } from '../src/lib/websocket/types';
import { API_KEYS, freePort } from './pulso-server';

const url = inject('pulsoUrl');
const WAIT = { timeout: 5000, interval: 20 };
const open: PulsoClient[] = [];

afterEach(() => {
  for (const client of open.splice(0)) client.disconnect();
});

function as(role: keyof typeof API_KEYS, userId: string): AuthPayload {
  return { api_key: API_KEYS[role], user_id: userId };
}

/** A client that records every state it goes through and is closed after the test. */
function track(auth: AuthPayload, options?: ClientOptions['options']) {
  const client = new PulsoClient({ url, auth, ackTimeoutMs: 5000, options });
  const states: ConnectionState[] = [];
  client.subscribe(() => {
    if (states.at(-1) !== client.snapshot.state) states.push(client.snapshot.state);
  });
  open.push(client);
  return { client, states };
}

async function connected(auth: AuthPayload, options?: ClientOptions['options']) {
  const tracked = track(auth, options);
  tracked.client.connect();
  await vi.waitFor(() => expect(tracked.client.snapshot.session).not.toBeNull(), WAIT);
  return tracked;
}

/** Every `event` payload the client receives from now on. */
function collect<E extends ServerEventName>(client: PulsoClient, event: E): ServerEvents[E][] {
  const seen: ServerEvents[E][] = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}

async function ok<T>(ack: Promise<{ ok: true; data: T } | { ok: false; error: unknown }>): Promise<T> {
  const result = await ack;
  if (!result.ok) throw new Error(`command failed: ${JSON.stringify(result.error)}`);
  return result.data;
}

describe('PulsoClient', () => {
  it('connects with an API key and learns its session, rooms and unread count', async () => {
    const { client, states } = track(as('admin', 'greeted'));
    client.connect();
    await vi.waitFor(() => expect(client.snapshot.unreadCount).toBe(0), WAIT);

    const { session, rooms, error } = client.snapshot;
    expect(states).toEqual(['connecting', 'connected']);
    expect(error).toBeNull();
    expect(session).toMatchObject({ user_id: 'greeted', role: 'admin', socket_id: client.socket.id });
    expect(session?.rooms).toEqual(expect.arrayContaining(['user:greeted', 'role:admin']));
    expect(rooms).toEqual(['alerts', 'clients', 'inventory', 'orders']);
  });

  it('refuses bad credentials with the server reason and does not retry', async () => {
    const refused: AuthPayload[] = [{ api_key: 'wrong', user_id: 'x' }, as('admin', ''), { token: 'not.a.jwt' }];
    for (const auth of refused) {
      const { client } = track(auth);
      client.connect();
      await vi.waitFor(() => expect(client.snapshot.state).toBe('disconnected'), WAIT);
      expect(client.snapshot.error).toMatch(/^unauthorized/);
      expect(client.snapshot.session).toBeNull();
      expect(client.socket.active).toBe(false);
    }
  });

  it('send resolves with the ack: data when it worked, field errors when it did not', async () => {
    const { client } = await connected(as('staff', 'clerk'));

    const created = await client.send('client:create', { name: 'Ack Test Co' });
    expect(created).toMatchObject({ ok: true, data: { name: 'Ack Test Co' } });

    const refused = await client.send('order:create', {
      client_id: 0,
      items: [{ sku: 'NOPE', quantity: 0, unit_price: '1.00' }],
    });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('invalid');
    expect(Object.keys(refused.error.fields ?? {})).toEqual(expect.arrayContaining(['client_id', 'items[0].quantity']));
  });

  it("refuses a viewer's write with `forbidden`", async () => {
    const { client } = await connected(as('viewer', 'watcher'));
    const ack = await client.send('client:create', { name: 'Nope' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('joinRoom and leaveRoom narrow what arrives', async () => {
    const { client: watcher } = await connected(as('viewer', 'narrow'));
    const { client: actor } = await connected(as('staff', 'actor'));

    await ok(watcher.leaveRoom('inventory'));
    const joined = await ok(watcher.joinRoom('sku:ROOM-2'));
    expect(joined.room).toBe('sku:ROOM-2');
    expect(watcher.snapshot.rooms).toEqual(['alerts', 'clients', 'orders', 'sku:ROOM-2']);
    expect(await watcher.joinRoom('user:someone-else')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await watcher.joinRoom('nowhere')).toMatchObject({ ok: false, error: { code: 'invalid' } });

    const updates = collect(watcher, 'inventory_updated');
    const clients = collect(watcher, 'client_created');
    await ok(actor.send('inventory:update', { sku: 'ROOM-1', name: 'One', quantity: 5 }));
    await ok(actor.send('inventory:update', { sku: 'ROOM-2', name: 'Two', quantity: 5 }));
    // Events reach a socket in order: once this one is here, any earlier one would be too.
    await ok(actor.send('client:create', { name: 'Marker' }));
    await vi.waitFor(() => expect(clients.map((e) => e.data.name)).toContain('Marker'), WAIT);

    expect(updates.map((e: Envelope<InventoryItem>) => e.data.sku)).toEqual(['ROOM-2']);
    expect(updates[0].room).toBe('inventory');
  });

  it('tells when a server cannot be reached and when it tries again', async () => {
    const client = new PulsoClient({
      url: `http://127.0.0.1:${await freePort()}`, // nobody listens there
      auth: as('admin', 'nobody-home'),
      options: { reconnectionDelay: 200, reconnectionDelayMax: 1000, randomizationFactor: 0.5 },
    });
    open.push(client);
    const before = Date.now();
    client.connect();
    await vi.waitFor(() => expect(client.snapshot.state).toBe('reconnecting'), WAIT);
    expect(client.snapshot.unreachable).toBe(true);
    // The first retry comes within 200 ms, give or take half.
    expect(client.snapshot.nextTryAt).toBeGreaterThan(before);
    expect(client.snapshot.nextTryAt).toBeLessThanOrEqual(Date.now() + 300);
    // Later retries back off, never beyond the maximum.
    await vi.waitFor(() => expect(client.snapshot.nextTryAt! - Date.now()).toBeGreaterThan(300), WAIT);
    expect(client.snapshot.nextTryAt! - Date.now()).toBeLessThanOrEqual(1000);
  });

  it('reconnects by itself after the connection drops, into the rooms it had chosen', async () => {
    const { client, states } = await connected(as('admin', 'dropped'), {
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    await ok(client.leaveRoom('orders'));
    const firstSocket = client.snapshot.session?.socket_id;

    client.socket.io.engine.close(); // what a dead network or a restarting server looks like
    await vi.waitFor(() => expect(client.snapshot.session?.socket_id).not.toBe(firstSocket), WAIT);

    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(client.snapshot).toMatchObject({ unreachable: false, nextTryAt: null });
    expect(client.snapshot.rooms).toEqual(['alerts', 'clients', 'inventory']);
    expect(client.snapshot.session?.rooms).not.toContain('orders');
  });

  it('keeps the unread count in step across every tab of a user', async () => {
    const { client: tab1 } = await connected(as('staff', 'two-tabs'));
    const { client: tab2 } = await connected(as('staff', 'two-tabs'));
    const { client: admin } = await connected(as('admin', 'boss'));
    const confirmations = collect(tab2, 'notification_read_confirmation');

    const sent = await ok(admin.send('notification:send', { user_id: 'two-tabs', subject: 'Hi', message: 'Read me' }));
    for (const tab of [tab1, tab2]) await vi.waitFor(() => expect(tab.snapshot.unreadCount).toBe(1), WAIT);

    await ok(tab1.send('mark_read', { notification_id: sent.id }));
    for (const tab of [tab1, tab2]) await vi.waitFor(() => expect(tab.snapshot.unreadCount).toBe(0), WAIT);
    await vi.waitFor(() => expect(confirmations.map((e) => e.data.notification_ids)).toEqual([[sent.id]]), WAIT);
  });
});
