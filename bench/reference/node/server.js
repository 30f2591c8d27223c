// The benchmark's Node reference: the subset of pulso's contract the scenarios use, on
// socket.io 4.8 + better-sqlite3, as small as honest. Same schema, indexes and SQLite
// settings as pulso (WAL, synchronous NORMAL, wal_autocheckpoint 10 000; every statement
// is prepared once, which is what pulso's statement cache buys it).
//
// Two ways to commit, chosen by BENCH_GROUP_COMMIT:
// - unset (socket.io's usual shape): one transaction per command (event-log rows
//   included), its events emitted after its commit, then its ack;
// - "1" (pulso's shape): the commands that arrived in one turn of the event loop share
//   one transaction, each in a savepoint of its own (a failing command rolls back alone);
//   after the commit every ack goes out, then every event, in order.
//
// Connection state recovery is socket.io's own (in-memory adapter: a restarted process
// recovers nothing). Two REST routes, for the storm scenario: POST /api/clients (the
// `client:create` command) and GET /api/events?after=ID&limit=N (the event log), with
// pulso's headers (x-api-key, x-user-id) and shapes.
//
// Environment: BENCH_ADDR (host:port, port 0 = any), BENCH_DB (SQLite file),
// BENCH_API_KEYS ("key:role,..."), BENCH_PING_INTERVAL_MS, BENCH_PING_TIMEOUT_MS,
// BENCH_RECOVERY_WINDOW_SECS (connection state recovery window; default 120 as pulso's,
// 0 turns recovery off), BENCH_GROUP_COMMIT. Run with --expose-gc: GET /bench/gc collects
// garbage before the harness samples RSS.
// Prints one JSON line {"message":"listening","addr":"host:port"} when ready.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import Database from 'better-sqlite3';

const [host, port] = (process.env.BENCH_ADDR ?? '127.0.0.1:0').split(':');
const apiKeys = new Map(
  (process.env.BENCH_API_KEYS ?? 'dev:admin').split(',').map((pair) => pair.split(':')),
);
const TOPICS = ['orders', 'clients', 'inventory', 'alerts'];
const SKU = /^[A-Za-z0-9_-]{1,64}$/;
const USER_ID = /^[A-Za-z0-9._@-]{1,128}$/;
const MAX_QTY = 1_000_000_000;

const db = new Database(process.env.BENCH_DB ?? 'reference.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL'); // what pulso sets
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 10000');
db.pragma('wal_autocheckpoint = 10000'); // what pulso sets
const groupCommit = process.env.BENCH_GROUP_COMMIT === '1';
db.exec(`
  CREATE TABLE IF NOT EXISTS clients (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
    email TEXT, phone TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS inventory_items (id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity >= 0),
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients (id), status TEXT NOT NULL,
    total_cents INTEGER NOT NULL, notes TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_orders_status ON orders (status);
  CREATE TABLE IF NOT EXISTS order_items (id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE, sku TEXT NOT NULL,
    quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_order_items_order_id ON order_items (order_id);
  CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT,
    type TEXT NOT NULL, subject TEXT NOT NULL, message TEXT NOT NULL, severity TEXT NOT NULL,
    created_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_notifications_user ON notifications (user_id);
  CREATE TABLE IF NOT EXISTS notification_reads (notification_id INTEGER NOT NULL
    REFERENCES notifications (id) ON DELETE CASCADE, user_id TEXT NOT NULL, read_at TEXT NOT NULL,
    PRIMARY KEY (notification_id, user_id));
  CREATE INDEX IF NOT EXISTS idx_notification_reads_user ON notification_reads (user_id, notification_id);
  CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,
    room TEXT NOT NULL, data TEXT NOT NULL, user_id TEXT, created_at TEXT NOT NULL);
`);

const q = {
  clientById: db.prepare('SELECT id FROM clients WHERE id = ?'),
  insertClient: db.prepare(
    'INSERT INTO clients (name, email, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *'),
  itemBySku: db.prepare('SELECT * FROM inventory_items WHERE sku = ?'),
  insertItem: db.prepare(`INSERT INTO inventory_items (sku, name, quantity, low_stock_threshold,
    created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`),
  updateItem: db.prepare(
    'UPDATE inventory_items SET quantity = ?, name = ?, updated_at = ? WHERE id = ? RETURNING *'),
  insertOrder: db.prepare(`INSERT INTO orders (client_id, status, total_cents, notes, created_at,
    updated_at) VALUES (?, 'pending', ?, ?, ?, ?) RETURNING *`),
  insertLine: db.prepare(
    'INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?)'),
  insertNotification: db.prepare(`INSERT INTO notifications (user_id, type, subject, message,
    severity, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`),
  unread: db.prepare(`SELECT COUNT(*) AS n FROM notifications WHERE (user_id = ? OR user_id IS NULL)
    AND id NOT IN (SELECT notification_id FROM notification_reads WHERE user_id = ?)`),
  insertEvent: db.prepare(
    'INSERT INTO events (type, room, data, user_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id'),
  // Private rooms (user:, role:) only the caller's own, as pulso lists them.
  eventsAfter: db.prepare(`SELECT * FROM events WHERE id > ?
    AND ((room NOT LIKE 'user:%' AND room NOT LIKE 'role:%') OR room IN (?, ?)) ORDER BY id LIMIT ?`),
};

const now = () => new Date().toISOString();
const money = (cents) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

class Invalid extends Error {
  constructor(code, message, fields) { super(message); this.code = code; this.fields = fields; }
}

/** Cents from "12.50" or 12.5 (at most two decimals), as pulso accepts. */
function cents(value) {
  const text = typeof value === 'number' ? String(value) : value;
  const m = typeof text === 'string' && /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

function itemView(row) {
  return { ...row, low_stock: row.quantity <= row.low_stock_threshold };
}

/** While a group commit runs: what to do once it has committed, in order. */
let afterGroup = null;

/** Runs `then` now, or after the running group commit. */
function afterCommit(then) {
  if (afterGroup) afterGroup.push(then);
  else then();
}

/**
 * Runs `write` in one IMMEDIATE transaction (a savepoint inside a group commit); records
 * its events; emits them after the commit; returns what `write` returned.
 */
function transact(userId, write) {
  const events = [];
  const emit = (type, rooms, data) => events.push({ type, rooms, data });
  const run = db.transaction(() => {
    const result = write(emit);
    const at = now();
    for (const e of events) {
      e.envelope = {
        id: q.insertEvent.get(e.type, e.rooms[0], JSON.stringify(e.data), userId, at).id,
        type: e.type, data: e.data, timestamp: at, user_id: userId, room: e.rooms[0],
      };
    }
    return result;
  });
  const result = afterGroup ? run() : run.immediate();
  afterCommit(() => { for (const e of events) io.to(e.rooms).emit(e.type, e.envelope); });
  return result;
}

/** Commands waiting for the next group commit: [identity, event, input, ack]. */
const queued = [];

/** Runs every queued command in one transaction, then acks them all, then emits. */
function commitGroup() {
  const group = queued.splice(0);
  afterGroup = [];
  let acks;
  try {
    acks = db.transaction(() => group.map(([identity, event, input]) => execute(identity, event, input))).immediate();
  } catch (error) {
    console.error(error);
    acks = group.map(() => ({ ok: false, error: { code: 'internal', message: 'internal error' } }));
    afterGroup = [];
  }
  const then = afterGroup;
  afterGroup = null;
  group.forEach(([, , , ack], i) => ack?.(acks[i]));
  for (const run of then) run();
}

/** Answers a command now, or queues it for the next group commit. */
function command(identity, event, input, ack) {
  if (!groupCommit) {
    const result = execute(identity, event, input);
    return ack?.(result);
  }
  queued.push([identity, event, input, ack]);
  if (queued.length === 1) setImmediate(commitGroup);
}

const commands = {
  'client:create'(identity, input) {
    if (typeof input?.name !== 'string' || !input.name.trim()) {
      throw new Invalid('invalid', 'invalid input', { name: 'is required' });
    }
    return transact(identity.userId, (emit) => {
      const at = now();
      const client = q.insertClient.get(input.name.trim(), input.email ?? null, input.phone ?? null, at, at);
      emit('client_created', ['clients', `client:${client.id}`], client);
      return client;
    });
  },

  'inventory:update'(identity, input) {
    const fields = {};
    if (typeof input?.sku !== 'string' || !SKU.test(input.sku)) fields.sku = 'is not a valid sku';
    if (!Number.isInteger(input?.quantity) || input.quantity < 0 || input.quantity > MAX_QTY) {
      fields.quantity = 'must be an integer from 0 to 1000000000';
    }
    if (Object.keys(fields).length) throw new Invalid('invalid', 'invalid input', fields);
    return transact(identity.userId, (emit) => {
      const at = now();
      const existing = q.itemBySku.get(input.sku);
      let row;
      if (existing) {
        row = q.updateItem.get(input.quantity, input.name ?? existing.name, at, existing.id);
      } else if (typeof input.name === 'string' && input.name.trim()) {
        row = q.insertItem.get(input.sku, input.name.trim(), input.quantity, 10, at, at);
      } else {
        throw new Invalid('not_found', `no item with sku ${input.sku}`);
      }
      const item = itemView(row);
      emit('inventory_updated', ['inventory', `sku:${item.sku}`], item);
      return item;
    });
  },

  'order:create'(identity, input) {
    const fields = {};
    if (!Number.isInteger(input?.client_id) || input.client_id < 1) fields.client_id = 'must be a positive integer';
    const items = Array.isArray(input?.items) ? input.items : [];
    if (items.length === 0 || items.length > 100) fields.items = 'must have 1 to 100 lines';
    const lines = items.map((line, i) => {
      if (typeof line?.sku !== 'string' || !SKU.test(line.sku)) fields[`items[${i}].sku`] = 'is not a valid sku';
      if (!Number.isInteger(line?.quantity) || line.quantity < 1 || line.quantity > MAX_QTY) {
        fields[`items[${i}].quantity`] = 'must be an integer from 1 to 1000000000';
      }
      const price = cents(line?.unit_price);
      if (price === null) fields[`items[${i}].unit_price`] = 'must be a decimal with at most two places';
      return { sku: line?.sku, quantity: line?.quantity, price };
    });
    if (input?.notes != null && typeof input.notes !== 'string') fields.notes = 'must be a string';
    if (Object.keys(fields).length) throw new Invalid('invalid', 'invalid input', fields);
    const total = lines.reduce((sum, l) => sum + l.price * l.quantity, 0);

    return transact(identity.userId, (emit) => {
      if (!q.clientById.get(input.client_id)) throw new Invalid('not_found', `no client with id ${input.client_id}`);
      const at = now();
      const order = q.insertOrder.get(input.client_id, total, input.notes?.trim() || null, at, at);
      for (const l of lines) q.insertLine.run(order.id, l.sku, l.quantity, l.price);
      const view = {
        id: order.id, client_id: order.client_id, status: order.status, total: money(total),
        notes: order.notes, created_at: at, updated_at: at,
        items: lines.map((l) => ({
          sku: l.sku, quantity: l.quantity, unit_price: money(l.price), line_total: money(l.price * l.quantity),
        })),
      };
      emit('order_created', ['orders', `order:${order.id}`], view);
      // Reserve stock in SKU order, as pulso does.
      for (const l of [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))) {
        const item = q.itemBySku.get(l.sku);
        if (!item) throw new Invalid('not_found', `no item with sku ${l.sku}`);
        if (item.quantity < l.quantity) throw new Invalid('conflict', `not enough stock for ${l.sku}`);
        const updated = itemView(q.updateItem.get(item.quantity - l.quantity, item.name, at, item.id));
        emit('inventory_updated', ['inventory', `sku:${l.sku}`], updated);
        if (item.quantity > item.low_stock_threshold && updated.low_stock) {
          emit('stock_low', ['alerts', `sku:${l.sku}`], {
            sku: l.sku, name: item.name, quantity: updated.quantity, threshold: item.low_stock_threshold,
            item_id: item.id, source: 'threshold',
          });
        }
      }
      return view;
    });
  },

  'notification:send'(identity, input) {
    if (identity.role !== 'admin') throw new Invalid('forbidden', 'only admins send notifications');
    if (typeof input?.subject !== 'string' || typeof input?.message !== 'string') {
      throw new Invalid('invalid', 'invalid input', { subject: 'is required', message: 'is required' });
    }
    const userId = input.user_id ?? null;
    const notification = transact(identity.userId, (emit) => {
      const row = q.insertNotification.get(userId, input.type ?? 'message', input.subject.trim(),
        input.message, input.severity ?? 'info', now());
      const view = { ...row, read: false };
      emit('notification', [userId === null ? 'everyone' : `user:${userId}`], view);
      return view;
    });
    if (userId !== null) afterCommit(() => pushUnread(userId));
    return notification;
  },
};

/** Runs one command for `identity`; its ack: { ok: true, data } or { ok: false, error }. */
function execute(identity, event, input) {
  const command = commands[event];
  if (!command) return { ok: false, error: { code: 'invalid', message: `unknown command \`${event}\`` } };
  if (identity.role === 'viewer') return { ok: false, error: { code: 'forbidden', message: 'viewers cannot write' } };
  try {
    return { ok: true, data: command(identity, input) };
  } catch (error) {
    if (error instanceof Invalid) {
      return { ok: false, error: { code: error.code, message: error.message, fields: error.fields } };
    }
    console.error(error);
    return { ok: false, error: { code: 'internal', message: 'internal error' } };
  }
}

function pushUnread(userId) {
  io.to(`user:${userId}`).emit('unread_count', { unread_count: q.unread.get(userId, userId).n });
}

const STATUS = { invalid: 422, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, internal: 500 };

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// REST (socket.io answers its own path first): the routes the storm scenario uses.
async function rest(req, res) {
  const url = new URL(req.url, 'http://reference');
  // The harness's hook, before it samples RSS (only when started with --expose-gc).
  if (req.method === 'GET' && url.pathname === '/bench/gc') {
    global.gc?.();
    return reply(res, 200, { collected: typeof global.gc === 'function' });
  }
  const role = apiKeys.get(req.headers['x-api-key']);
  const userId = req.headers['x-user-id'] ?? 'api';
  if (!role || !USER_ID.test(userId)) {
    return reply(res, 401, { error: { code: 'unauthorized', message: 'unknown api key or bad user id' } });
  }
  if (req.method === 'POST' && url.pathname === '/api/clients') {
    let body = '';
    for await (const chunk of req) body += chunk;
    let input;
    try {
      input = body ? JSON.parse(body) : {};
    } catch {
      return reply(res, 400, { error: { code: 'invalid', message: 'request body is not valid JSON' } });
    }
    return command({ userId, role }, 'client:create', input, (ack) =>
      ack.ok ? reply(res, 201, ack.data) : reply(res, STATUS[ack.error.code] ?? 400, { error: ack.error }));
  }
  if (req.method === 'GET' && url.pathname === '/api/events') {
    const after = Number(url.searchParams.get('after') ?? 0);
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100), 1), 1000);
    const events = q.eventsAfter.all(after, `user:${userId}`, `role:${role}`, limit).map((row) => ({
      id: row.id, type: row.type, data: JSON.parse(row.data), timestamp: row.created_at,
      user_id: row.user_id, room: row.room,
    }));
    return reply(res, 200, { events, next_after: events.at(-1)?.id ?? after });
  }
  reply(res, 404, { error: { code: 'not_found', message: 'no such resource' } });
}

const recoveryWindowSecs = Number(process.env.BENCH_RECOVERY_WINDOW_SECS ?? 120);
const http = createServer(rest);
const io = new Server(http, {
  pingInterval: Number(process.env.BENCH_PING_INTERVAL_MS ?? 25000),
  pingTimeout: Number(process.env.BENCH_PING_TIMEOUT_MS ?? 20000),
  maxHttpBufferSize: 1_048_576,
  // Middlewares run on a recovery too: pulso authenticates every connection.
  ...(recoveryWindowSecs > 0 && {
    connectionStateRecovery: { maxDisconnectionDuration: recoveryWindowSecs * 1000, skipMiddlewares: false },
  }),
});

// Auth at connect: unknown key or bad user id is a connect_error starting "unauthorized".
io.use((socket, next) => {
  const { api_key: key, user_id: rawUser, rooms } = socket.handshake.auth ?? {};
  const role = apiKeys.get(key);
  const userId = typeof rawUser === 'number' ? String(rawUser) : rawUser;
  if (!role) return next(new Error('unauthorized: unknown api key'));
  if (typeof userId !== 'string' || !USER_ID.test(userId)) return next(new Error('unauthorized: user_id is required'));
  const wanted = rooms ?? TOPICS;
  if (!Array.isArray(wanted) || !wanted.every((room) => TOPICS.includes(room) || /^(order|client|sku):/.test(room))) {
    return next(new Error('unauthorized: a requested room may not be joined'));
  }
  socket.data = { userId, role, rooms: wanted };
  next();
});

io.on('connection', (socket) => {
  const { userId, role, rooms } = socket.data;
  const userRoom = `user:${userId}`;
  const joined = [userRoom, `role:${role}`, ...rooms];
  socket.join(joined);
  // Presence: the user's first socket announces it to everyone else.
  if (io.sockets.adapter.rooms.get(userRoom)?.size === 1) {
    socket.broadcast.emit('user_connected', { user_id: userId, role });
  }
  socket.emit('connection_established', {
    user_id: userId, socket_id: socket.id, role, rooms: joined, server_time: now(),
  });
  socket.emit('unread_count', { unread_count: q.unread.get(userId, userId).n });

  socket.on('join_room', (input, ack) => {
    const room = typeof input === 'string' ? input : input?.room;
    if (typeof room !== 'string' || !(TOPICS.includes(room) || /^(order|client|sku):/.test(room))) {
      return ack?.({ ok: false, error: { code: 'invalid', message: 'unknown room' } });
    }
    socket.join(room);
    ack?.({ ok: true, data: { room, rooms: [...socket.rooms].filter((r) => r !== socket.id) } });
  });

  socket.onAny((event, input, ack) => {
    if (event === 'join_room') return;
    command({ userId, role }, event, input, typeof ack === 'function' ? ack : undefined);
  });

  socket.on('disconnect', () => {
    if (!io.sockets.adapter.rooms.get(userRoom)?.size) {
      socket.broadcast.emit('user_disconnected', { user_id: userId, role });
    }
  });
});

http.listen(Number(port), host, () => {
  const { address, port: bound } = http.address();
  console.log(JSON.stringify({ message: 'listening', addr: `${address}:${bound}` }));
});
const stop = () => io.close(() => { db.close(); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
