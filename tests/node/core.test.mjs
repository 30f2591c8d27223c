// End-to-end test of pulso with the official socket.io client.
// Run with `npm test` (needs a built server: `cargo build` in the repo root, or PULSO_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { TIMEOUT, client, command, startServer, waitFor } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(() => server?.child.kill());

test('two clients see each other\'s orders and low-stock alerts', async (t) => {
  // A: default transports (long-polling, then upgrade to websocket); B: websocket only.
  const a = client(server.url, { api_key: 'dev', user_id: 'u1' });
  const b = client(server.url, { api_key: 'dev', user_id: 'u2' }, { transports: ['websocket'] });
  t.after(() => { a.disconnect(); b.disconnect(); });

  // 1. Each socket gets a greeting right after connecting.
  const hellos = [waitFor(a, 'connection_established'), waitFor(b, 'connection_established')];
  a.connect();
  b.connect();
  const [helloA, helloB] = await Promise.all(hellos);
  for (const [hello, socket, user] of [[helloA, a, 'u1'], [helloB, b, 'u2']]) {
    assert.equal(hello.user_id, user);
    assert.equal(hello.socket_id, socket.id);
    assert.equal(hello.role, 'admin');
    for (const room of ['orders', 'clients', 'inventory', 'alerts', `user:${user}`, 'role:admin']) {
      assert.ok(hello.rooms.includes(room), `${user} should be in room ${room}`);
    }
    assert.ok(!Number.isNaN(Date.parse(hello.server_time)), 'server_time is a date');
  }

  // 2. A creates a client, an item and an order that drops the item from 10 to 2 (threshold 3).
  const customer = await command(a, 'client:create', { name: 'Node Test Co' });
  assert.ok(customer.id, 'client has an id');
  const item = await command(a, 'inventory:update', { sku: 'N-1', name: 'Nut', quantity: 10, threshold: 3 });
  assert.equal(item.quantity, 10);

  // Listen on B before ordering, so the events cannot be missed. Awaiting all three
  // together means a failed ack doesn't leave the waits as unhandled rejections.
  const [order, createdEnv, lowEnv] = await Promise.all([
    command(a, 'order:create', {
      client_id: customer.id,
      items: [{ sku: 'N-1', quantity: 8, unit_price: '1.25' }],
    }),
    waitFor(b, 'order_created'),
    waitFor(b, 'stock_low', (env) => env.data?.sku === 'N-1'),
  ]);
  assert.equal(order.status, 'pending');
  assert.equal(order.total, '10.00');

  // 3. B sees both domain events, wrapped in envelopes.
  assert.ok(Number.isInteger(createdEnv.id) && createdEnv.id > 0, 'envelope id is a positive integer');
  assert.equal(createdEnv.type, 'order_created');
  assert.equal(createdEnv.room, 'orders');
  assert.equal(createdEnv.user_id, 'u1');
  assert.equal(createdEnv.data.id, order.id);
  assert.ok(createdEnv.timestamp, 'envelope has a timestamp');

  assert.equal(lowEnv.type, 'stock_low');
  assert.equal(lowEnv.room, 'alerts');
  assert.equal(lowEnv.data.quantity, 2);
  assert.equal(lowEnv.data.threshold, 3);
  assert.equal(lowEnv.data.name, 'Nut');
  assert.equal(lowEnv.data.item_id, item.id);

  // 4. Invalid input is rejected in the ack with per-field errors.
  const bad = await a.timeout(TIMEOUT).emitWithAck('order:create', { client_id: 'nope', items: [] });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'invalid');
  assert.ok(bad.error.fields?.client_id, 'error names client_id');
});

test('a wrong api_key is refused at connect', async (t) => {
  const s = client(server.url, { api_key: 'wrong', user_id: 'u3' });
  t.after(() => s.disconnect());
  const refused = waitFor(s, 'connect_error');
  s.connect();
  const err = await refused;
  assert.match(err.message, /unauthorized/i);
});

test('commands sent the moment the socket connects are answered', async (t) => {
  // socket.io-client buffers emits made before the handshake and flushes them right
  // after it: the way a React app joins rooms and asks for counts on mount.
  for (const transports of [['polling', 'websocket'], ['websocket']]) {
    const s = client(server.url, { api_key: 'dev', user_id: 'eager' }, { transports });
    t.after(() => s.disconnect());
    s.connect();
    const [joined, count, unread] = await Promise.all([
      s.timeout(TIMEOUT).emitWithAck('join_room', 'sku:EAGER-1'),
      s.timeout(TIMEOUT).emitWithAck('get_unread_count', {}),
      waitFor(s, 'unread_count'),
    ]);
    assert.equal(joined.ok, true, JSON.stringify(joined));
    assert.equal(joined.data.room, 'sku:EAGER-1');
    assert.ok(joined.data.room_count >= 3, JSON.stringify(joined));
    assert.deepEqual(count, { ok: true, data: { unread_count: 0 } });
    assert.deepEqual(unread, { unread_count: 0 });
    s.disconnect();
  }
});

/** An HS256 token signed with node:crypto: an implementation independent of pulso's. */
function sign(claims, secret = 'pulso-development-secret-never-use-in-production') {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

test('a JWT from another implementation is accepted; an expired one is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const s = client(server.url, { token: sign({ sub: 'jwt-user', role: 'staff', exp: now + 600 }) });
  t.after(() => s.disconnect());
  const hello = waitFor(s, 'connection_established');
  s.connect();
  assert.equal((await hello).user_id, 'jwt-user');
  assert.equal((await hello).role, 'staff');

  const old = client(server.url, { token: sign({ sub: 'jwt-user', role: 'staff', exp: now - 5 }) });
  t.after(() => old.disconnect());
  const refused = waitFor(old, 'connect_error');
  old.connect();
  assert.equal((await refused).message, 'unauthorized: token expired');
});
