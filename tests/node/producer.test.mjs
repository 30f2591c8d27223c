// Events a backend publishes (POST /api/publish, pulso in relay mode) reach socket.io-client
// dashboards exactly as pulso's own do: the same envelope (checked against the published
// AsyncAPI document), the same topic and entity rooms, and recovered after a reconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { TIMEOUT, client, rest, startServer, stopServer, waitFor } from './helpers.mjs';
import { asyncapiCompiler, pointer } from './schemas.mjs';

const SERVICE_KEY = 'svc-key-node-producer-tests';

const order = (id) => ({
  id,
  client_id: 7,
  status: 'pending',
  total: '59.97',
  notes: null,
  items: [{ sku: 'A-1', quantity: 3, unit_price: '19.99', line_total: '59.97' }],
  created_at: '2026-11-22T10:00:00.123Z',
  updated_at: '2026-11-22T10:00:00.123Z',
});
const alert = { sku: 'A-1', name: 'Widget', quantity: 2, threshold: 5, item_id: 11, source: 'threshold' };

/** Publishes `body` as the backend; returns the 201 answer. */
async function publish(url, body) {
  const response = await fetch(`${url}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': SERVICE_KEY, 'x-user-id': 'backend' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const answer = await response.json();
  assert.equal(response.status, 201, JSON.stringify(answer));
  assert.equal(answer.replayed, false);
  return answer;
}

/** A socket in `rooms` only (besides its own user and role rooms), once connected. */
async function watcher(t, url, rooms) {
  const socket = client(url, { api_key: 'dev', user_id: `watcher-${rooms[0].replace(':', '-')}`, rooms });
  t.after(() => socket.close());
  const hello = waitFor(socket, 'connection_established');
  socket.connect();
  assert.deepEqual((await hello).rooms.filter((room) => !/^(user|role):/.test(room)), rooms);
  return socket;
}

test('published events reach topic and entity rooms enveloped, and are recovered after a drop', async (t) => {
  const server = await startServer({ PULSO_API_KEYS: `dev:admin:*,${SERVICE_KEY}:service:*`, PULSO_RELAY: 'true' });
  t.after(() => stopServer(server));
  const asyncapi = await (await fetch(`${server.url}/api/asyncapi.json`, { signal: AbortSignal.timeout(TIMEOUT) })).json();
  const compile = asyncapiCompiler(asyncapi);
  const schemaOf = (event) => compile(pointer('components', 'messages', `event.${event}`, 'payload'));
  const checks = { order_created: schemaOf('order_created'), stock_low: schemaOf('stock_low') };

  // The dashboard as the React app opens it: automatic reconnection, recovery on.
  const dashboard = io(server.url, {
    auth: { api_key: 'dev', user_id: 'dashboard', rooms: ['orders', 'alerts'] },
    forceNew: true,
    reconnectionDelay: 1000,
    randomizationFactor: 0,
  });
  t.after(() => dashboard.close());
  const received = [];
  dashboard.onAny((event, envelope) => { if (envelope?.type) received.push(envelope); });
  await waitFor(dashboard, 'connection_established');
  const orderRoom = await watcher(t, server.url, ['order:1001']);
  const skuRoom = await watcher(t, server.url, ['sku:A-1']);

  const arriving = [
    waitFor(dashboard, 'order_created'),
    waitFor(dashboard, 'stock_low'),
    waitFor(orderRoom, 'order_created'),
    waitFor(skuRoom, 'stock_low'),
  ];
  const { events } = await publish(server.url, {
    events: [{ type: 'order_created', data: order(1001) }, { type: 'stock_low', data: alert }],
  });
  const [created, low] = events;
  // `room` is the topic room, also for a socket that is only in the entity room.
  assert.deepEqual(
    [created.type, created.data, created.user_id, created.room, low.type, low.data, low.user_id, low.room],
    ['order_created', order(1001), 'backend', 'orders', 'stock_low', alert, 'backend', 'alerts'],
  );
  assert.deepEqual(await Promise.all(arriving), [created, low, created, low]);
  for (const envelope of [created, low]) {
    assert.equal(checks[envelope.type](envelope), null, `${envelope.type} as the AsyncAPI document says`);
  }

  // The dashboard's transport drops (as on a Wi-Fi blip); the backend publishes meanwhile.
  const back = waitFor(dashboard, 'connect', () => true, 10 * TIMEOUT);
  const missed = waitFor(dashboard, 'order_created', (envelope) => envelope.data.id === 1002, 10 * TIMEOUT);
  dashboard.io.engine.close();
  const [whileAway] = (await publish(server.url, { type: 'order_created', data: order(1002) })).events;
  assert.equal(dashboard.connected, false, 'published while the dashboard was away');
  await back;
  assert.equal(dashboard.recovered, true, 'the session is recovered');
  assert.deepEqual(await missed, whileAway);

  // One more, published live: everything before it has arrived, each once, as logged.
  const live = waitFor(dashboard, 'order_created', (envelope) => envelope.data.id === 1003);
  await publish(server.url, { type: 'order_created', data: order(1003) });
  await live;
  const { events: logged } = await rest(server.url, 'GET', '/api/events?after=0', undefined, 'dashboard');
  assert.deepEqual(received.map((envelope) => envelope.id), logged.map((envelope) => envelope.id));
  assert.deepEqual(logged.map((envelope) => envelope.data.id ?? envelope.data.sku), [1001, 'A-1', 1002, 1003]);
});
