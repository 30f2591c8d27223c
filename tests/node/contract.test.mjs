// The contract the server publishes, checked against the server itself: both documents
// pass their official validators, and real acks, events and REST answers (admin, staff
// and viewer sockets sending every command) match the schemas the documents publish,
// so the documents and the behaviour cannot drift apart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TIMEOUT, client, startServer, waitFor } from './helpers.mjs';
import { asyncapiCompiler, openapiCompiler, pointer } from './schemas.mjs';

const KEYS = { admin: 'dev', staff: 'staff-key', viewer: 'viewer-key', service: 'service-key' };
let server;
let asyncapi;
let openapi;

before(async () => {
  const keys = Object.entries(KEYS).map(([role, key]) => `${key}:${role}:*`).join(',');
  server = await startServer({ PULSO_API_KEYS: keys });
  [asyncapi, openapi] = await Promise.all(['asyncapi', 'openapi'].map(async (name) => {
    const response = await fetch(`${server.url}/api/${name}.json`, { signal: AbortSignal.timeout(TIMEOUT) });
    assert.equal(response.status, 200, `GET /api/${name}.json`);
    return response.json();
  }));
});
after(() => server?.child.kill());

test('the AsyncAPI document passes the official parser', async (t) => {
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncapi));
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
  t.diagnostic(`@asyncapi/parser: ${errors.length} errors, ${warnings.length} warnings, `
    + `${diagnostics.length} diagnostics in all`);
  assert.deepEqual(errors.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`), []);
  assert.equal(document.version(), '3.0.0');
});

test('the OpenAPI document passes the OpenAPI 3.1 schema, and each of its schemas compiles', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(openapi));
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');
  // The OpenAPI schema takes any object as a Schema Object: strict ajv checks each one
  // against draft 2020-12 (throwing, with the schema's path, at the first it refuses).
  const compile = openapiCompiler(openapi);
  for (const name of Object.keys(openapi.components.schemas)) compile(pointer('components', 'schemas', name));
});

/**
 * Validates whatever crosses the sockets against the AsyncAPI messages, by the real
 * Socket.IO event name, and keeps what went wrong and what was exercised.
 */
class Traffic {
  failures = [];
  sent = new Set();
  received = new Set();

  constructor(doc) {
    const compile = asyncapiCompiler(doc);
    this.messages = { command: new Map(), ack: new Map(), event: new Map() };
    for (const [key, message] of Object.entries(doc.components.messages)) {
      const kind = key.slice(0, key.indexOf('.'));
      const operation = doc.operations[key]; // commands' and events' (an ack is its command's reply)
      this.messages[kind].set(message.name, {
        check: compile(pointer('components', 'messages', key, 'payload')),
        roles: operation?.['x-pulso-roles'],
        // A logged event is the envelope whose `type` is the event's name.
        rooms: message.payload.properties?.type?.const === message.name
          ? operation['x-pulso-rooms'].map(roomPattern)
          : null,
      });
    }
  }

  /** Records a failure unless `value` is valid as the document's `kind` (command, ack, event) `name`. */
  check(kind, name, value, who) {
    const message = this.messages[kind].get(name);
    const problem = message ? message.check(value) : 'not in the document';
    if (problem) this.failures.push(`${kind} ${name} to ${who}: ${problem}\n  ${JSON.stringify(value)}`);
    return !problem;
  }

  /** Checks every event `socket` receives; its logged events' rooms too. */
  watch(socket, who) {
    socket.onAny((name, payload) => {
      this.received.add(name);
      if (!this.check('event', name, payload, who)) return;
      const { rooms } = this.messages.event.get(name);
      if (rooms && !rooms.some((room) => room.test(payload.room))) {
        this.failures.push(`event ${name} to ${who}: room ${payload.room} is none of the operation's x-pulso-rooms`);
      }
    });
  }

  /** Sends a command (no argument when `payload` is undefined); checks and returns its ack. */
  async send(socket, who, name, payload) {
    this.sent.add(name);
    const args = payload === undefined ? [] : [payload];
    const ack = await socket.timeout(TIMEOUT).emitWithAck(name, ...args);
    this.check('ack', name, ack, who);
    return ack;
  }
}

/** `order:{id}` → /^order:[^:]+$/: a placeholder stands for one key. */
function roomPattern(room) {
  const parts = room.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^:]+')}$`);
}

test('the traffic checker refuses what the document does not say', () => {
  const traffic = new Traffic(asyncapi);
  const envelope = { id: 1, type: 'unread_count', data: {}, timestamp: '2026-01-01T00:00:00Z', user_id: null, room: 'x' };
  assert.equal(traffic.check('event', 'order_deleted', {}, 'nobody'), false);
  assert.equal(traffic.check('event', 'unread_count', { unread_count: 1 }, 'nobody'), true);
  assert.equal(traffic.check('event', 'unread_count', { unread_count: 1, extra: true }, 'nobody'), false);
  assert.equal(traffic.check('event', 'unread_count', envelope, 'nobody'), false);
  assert.equal(traffic.check('ack', 'mark_read', { ok: false, error: { code: 'teapot', message: '' } }, 'nobody'), false);
  assert.equal(traffic.failures.length, 4);
  assert.ok(roomPattern('order:{id}').test('order:7') && !roomPattern('order:{id}').test('orders'));
});

test('every command and event, sent and received for real, matches the AsyncAPI document', async (t) => {
  const traffic = new Traffic(asyncapi);
  const sockets = [];
  t.after(() => sockets.forEach((socket) => socket.disconnect()));

  const roles = new Map(); // socket → its role, as the server told it
  async function connect(role, user) {
    const socket = client(server.url, { api_key: KEYS[role], user_id: user });
    sockets.push(socket);
    traffic.watch(socket, user);
    const greeted = Promise.all([waitFor(socket, 'connection_established'), waitFor(socket, 'unread_count')]);
    socket.connect();
    roles.set(socket, (await greeted)[0].role);
    return socket;
  }
  const allowed = (socket, name) => traffic.messages.command.get(name).roles.includes(roles.get(socket));
  // A command the server must accept: the document lets this role send it, and its
  // payload is valid by the document too.
  async function ok(socket, name, payload) {
    assert.ok(allowed(socket, name), `the document does not let ${roles.get(socket)} send ${name}`);
    traffic.check('command', name, payload, 'the server');
    const ack = await traffic.send(socket, socket.auth.user_id, name, payload);
    assert.equal(ack.ok, true, `${name} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
    return ack.data;
  }
  // A command the server must refuse with `code`.
  async function refused(socket, name, payload, code) {
    const ack = await traffic.send(socket, socket.auth.user_id, name, payload);
    assert.equal(ack.error?.code, code, `${name} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
  }
  // A payload the server refuses as invalid, and so does the document's schema.
  async function invalid(socket, name, payload) {
    await refused(socket, name, payload, 'invalid');
    assert.ok(traffic.messages.command.get(name).check(payload), `the document accepts ${name} ${JSON.stringify(payload)}`);
  }
  // A command this role may not send, by the server and by the document.
  async function forbidden(socket, name, payload) {
    await refused(socket, name, payload, 'forbidden');
    assert.ok(!allowed(socket, name), `the document lets ${roles.get(socket)} send ${name}`);
  }

  // Presence: each user's first socket is announced to the others.
  const admin = await connect('admin', 'contract-admin');
  const [staff] = await Promise.all([
    connect('staff', 'contract-staff'),
    waitFor(admin, 'user_connected', (p) => p.user_id === 'contract-staff'),
  ]);
  const [viewer] = await Promise.all([
    connect('viewer', 'contract-viewer'),
    waitFor(admin, 'user_connected', (p) => p.user_id === 'contract-viewer'),
  ]);

  // Rooms.
  await ok(viewer, 'join_room', { room: 'sku:CT-1' });
  await ok(viewer, 'leave_room', 'sku:CT-1');
  await refused(viewer, 'join_room', 'user:contract-staff', 'forbidden'); // a private room
  await invalid(viewer, 'join_room', 'nowhere');

  // Clients.
  const [customer] = await Promise.all([
    ok(staff, 'client:create', { name: 'Contract Co', email: 'buyer@contract.example', phone: '+34 600 000 000' }),
    waitFor(viewer, 'client_created', (e) => e.data.name === 'Contract Co'),
  ]);
  await forbidden(viewer, 'client:create', { name: 'Not Allowed' });
  await invalid(staff, 'client:create', { name: '' });
  await Promise.all([
    ok(staff, 'client:update', { id: customer.id, phone: '' }),
    waitFor(viewer, 'client_updated', (e) => e.data.id === customer.id),
  ]);
  await refused(staff, 'client:update', { id: 999999, name: 'Nobody' }, 'not_found');

  // Inventory and orders: the order takes the item from 10 to 2, under its threshold 3.
  await Promise.all([
    ok(staff, 'inventory:update', { sku: 'CT-1', name: 'Cog', quantity: 10, low_stock_threshold: 3 }),
    waitFor(viewer, 'inventory_updated', (e) => e.data.sku === 'CT-1'),
  ]);
  await invalid(staff, 'inventory:update', { sku: 'CT-1', quantity: -1 });
  const orderOf = (sku, quantity, unitPrice) => ({ client_id: customer.id, items: [{ sku, quantity, unit_price: unitPrice }] });
  const [order] = await Promise.all([
    ok(staff, 'order:create', { ...orderOf('CT-1', 8, '2.50'), notes: 'contract' }),
    waitFor(viewer, 'order_created', (e) => e.data.notes === 'contract'),
    waitFor(viewer, 'stock_low', (e) => e.data.sku === 'CT-1' && e.data.source === 'threshold'),
  ]);
  await invalid(staff, 'order:create', orderOf('CT-1', 0, 1));
  await refused(staff, 'order:create', orderOf('CT-NONE', 1, 1), 'not_found');
  await Promise.all([
    ok(staff, 'order:update', { id: order.id, status: 'confirmed' }),
    waitFor(viewer, 'order_updated', (e) => e.data.id === order.id),
    waitFor(viewer, 'order_status_changed', (e) => e.data.order_id === order.id && e.data.to === 'confirmed'),
  ]);
  await refused(staff, 'order:update', { id: order.id, status: 'pending' }, 'conflict');
  await forbidden(viewer, 'order:update', { id: order.id, notes: 'viewer' });
  await Promise.all([
    ok(staff, 'stock_low', { sku: 'CT-1', note: 'shelf empty' }),
    waitFor(viewer, 'stock_low', (e) => e.data.sku === 'CT-1' && e.data.source === 'report'),
  ]);

  // Notifications: one for staff, one for everyone, a test broadcast; staff reads them.
  const [note] = await Promise.all([
    ok(admin, 'notification:send', { user_id: 'contract-staff', subject: 'Stock', message: 'Count', severity: 'warning' }),
    waitFor(staff, 'notification', (e) => e.data.subject === 'Stock'),
    waitFor(staff, 'unread_count', (c) => c.unread_count === 1),
  ]);
  await forbidden(staff, 'notification:send', { user_id: null, subject: 'No', message: 'Staff may not' });
  await Promise.all([
    ok(admin, 'notification:send', { user_id: null, subject: 'All', message: 'Hello everyone' }),
    waitFor(viewer, 'notification', (e) => e.data.subject === 'All'),
  ]);
  await Promise.all([
    ok(admin, 'admin:test_broadcast', { title: 'Test', content: 'A test', level: 'info' }),
    waitFor(staff, 'notification', (e) => e.data.type === 'test_broadcast'),
  ]);
  await forbidden(staff, 'admin:test_broadcast', {});
  assert.deepEqual(await ok(staff, 'get_unread_count'), { unread_count: 3 });
  await Promise.all([
    ok(staff, 'mark_read', { notification_id: note.id }),
    waitFor(staff, 'notification_read_confirmation', (e) => e.data.notification_id === note.id),
  ]);
  await refused(staff, 'mark_read', { notification_id: 999999 }, 'not_found');
  await Promise.all([
    ok(staff, 'mark_all_read'),
    waitFor(staff, 'notification_read_confirmation', (e) => e.data.notification_id === null),
  ]);

  // Publishing: a producer's service credential; catalogue events need relay mode.
  const service = await connect('service', 'contract-backend');
  await Promise.all([
    ok(service, 'publish', { type: 'notification', data: { user_id: 'contract-admin', subject: 'From the backend', message: 'Published' } }),
    waitFor(admin, 'notification', (e) => e.data.subject === 'From the backend'),
  ]);
  await refused(service, 'publish', { type: 'order_created', data: order }, 'conflict');
  await invalid(service, 'publish', { type: 'order_created' });
  await forbidden(staff, 'publish', { type: 'notification', data: { subject: 'No', message: 'Staff may not' } });

  // The viewer's last socket closes.
  const gone = waitFor(admin, 'user_disconnected', (p) => p.user_id === 'contract-viewer');
  viewer.disconnect();
  await gone;

  assert.deepEqual(traffic.failures, [], traffic.failures.join('\n'));
  const unexercised = (kind, done) => [...traffic.messages[kind].keys()].filter((name) => !done.has(name));
  assert.deepEqual(unexercised('command', traffic.sent), [], 'commands of the document never sent');
  assert.deepEqual(unexercised('event', traffic.received), [], 'events of the document never received');
});

test('REST answers match the OpenAPI document', async () => {
  const compile = openapiCompiler(openapi);
  const failures = [];
  // Calls `route` (matching the document's `path`) and checks the answer against the
  // document's response for its status; returns the status and the body.
  async function call(method, path, route, { body, key = KEYS.admin, user = 'contract-rest' } = {}) {
    const headers = { 'content-type': 'application/json', ...(key && { 'x-api-key': key, 'x-user-id': user }) };
    const response = await fetch(`${server.url}${route}`, {
      method, headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT),
    });
    const json = await response.json();
    const operation = [path, method.toLowerCase()];
    const problem = openapi.paths[path]?.[operation[1]]?.responses[response.status]
      ? compile(pointer('paths', ...operation, 'responses', response.status, 'content', 'application/json', 'schema'))(json)
      : 'this status is not in the document';
    if (problem) failures.push(`${method} ${route} ${response.status}: ${problem}\n  ${JSON.stringify(json)}`);
    return { status: response.status, json };
  }

  const created = await call('POST', '/api/clients', '/api/clients', { body: { name: 'REST Co' } });
  assert.equal(created.status, 201);
  assert.equal((await call('GET', '/api/clients/{id}', `/api/clients/${created.json.id}`)).status, 200);
  assert.equal((await call('GET', '/api/orders', '/api/orders?limit=5')).status, 200);
  assert.equal((await call('GET', '/api/events', '/api/events?after=0&limit=20')).status, 200);
  assert.equal((await call('GET', '/api/notifications', '/api/notifications')).status, 200);
  assert.equal((await call('GET', '/ws/stats', '/ws/stats')).status, 200);
  assert.equal((await call('GET', '/api/orders/{id}', '/api/orders/999999')).status, 404);
  assert.equal((await call('POST', '/api/clients', '/api/clients', { body: { name: '' } })).status, 422);
  const asViewer = { body: { name: 'No' }, key: KEYS.viewer };
  assert.equal((await call('POST', '/api/clients', '/api/clients', asViewer)).status, 403);
  assert.equal((await call('GET', '/api/orders', '/api/orders', { key: null })).status, 401);
  assert.deepEqual(failures, [], failures.join('\n'));
});
