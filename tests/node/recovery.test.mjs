// Lossless reconnects with the unchanged socket.io-client: connection state recovery
// served from pulso's event log. The dashboards here use nothing but ordinary options
// (auth, automatic reconnection); each test breaks their connection the way a Wi-Fi
// blip, a killed server or a lost node does and checks that they end with exactly the
// sequence the event log holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { TIMEOUT, freePort, rest, startServer, stopServer, waitFor } from './helpers.mjs';

/**
 * A dashboard as the React app opens it: automatic reconnection on, every logged event
 * it receives recorded by id, and whether each connection was a recovered one.
 */
function dashboard(url, user, opts = {}) {
  const socket = io(url, {
    auth: { api_key: 'dev', user_id: user },
    forceNew: true,
    reconnectionDelay: 200,
    ...opts,
  });
  const seen = { socket, ids: [], connects: [] };
  socket.onAny((_event, envelope) => {
    if (Number.isInteger(envelope?.id) && envelope?.type) seen.ids.push(envelope.id);
  });
  socket.on('connect', () => seen.connects.push(socket.recovered));
  return seen;
}

/** A server for this test, stopped after it. */
async function serverFor(t, env) {
  const server = await startServer(env);
  t.after(() => stopServer(server));
  return server;
}

/** A dashboard for this test, once connected; closed after it. */
async function connectedDashboard(t, ...args) {
  const seen = dashboard(...args);
  t.after(() => seen.socket.close());
  await until(seen.socket, () => seen.connects.length === 1, 'the first connect');
  return seen;
}

/** Resolves once `ready()` holds, checking as events arrive; rejects after `ms`. */
function until(socket, ready, what, ms = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!ready()) return;
      clearTimeout(timer);
      socket.offAny(check);
      socket.off('connect', check);
      resolve();
    };
    const timer = setTimeout(() => {
      socket.offAny(check);
      socket.off('connect', check);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    socket.onAny(check);
    socket.on('connect', check);
    check();
  });
}

/** Ids of every event in the log that `user` may read, oldest first. */
async function logged(url, user) {
  const ids = [];
  let after = 0;
  for (;;) {
    const page = await rest(url, 'GET', `/api/events?after=${after}&limit=1000`, undefined, user);
    ids.push(...page.events.map((event) => event.id));
    if (page.events.length === 0) return ids;
    after = page.next_after;
  }
}

/** Waits until the dashboard holds every logged event, then checks it holds exactly those. */
async function assertExactlyTheLog(url, seen, user) {
  const expected = await logged(url, user);
  await until(seen.socket, () => seen.ids.length >= expected.length, `${expected.length} events`);
  assert.deepEqual(seen.ids, expected, 'the dashboard holds the log: nothing missed, nothing twice, in order');
}

const createClients = (url, count, name) =>
  Array.from({ length: count }, (_, i) => i).reduce(
    (done, i) => done.then(() => rest(url, 'POST', '/api/clients', { name: `${name} ${i}` })),
    Promise.resolve(),
  );

/** Breaks the dashboard's transport (as a network drop does) and resolves once it is back. */
async function dropAndWait(seen) {
  const back = waitFor(seen.socket, 'connect', () => true, 10 * TIMEOUT);
  seen.socket.io.engine.close();
  await back;
}

test('events created while the transport was down arrive after the reconnect, once each', async (t) => {
  const server = await serverFor(t);
  const seen = await connectedDashboard(t, server.url, 'gap-user', { reconnectionDelay: 1000, randomizationFactor: 0 });
  await rest(server.url, 'POST', '/api/clients', { name: 'before' });
  await until(seen.socket, () => seen.ids.length === 1, 'the first event');

  const back = waitFor(seen.socket, 'connect', () => true, 10 * TIMEOUT);
  seen.socket.io.engine.close();
  await createClients(server.url, 15, 'during the gap');
  await back;
  assert.deepEqual(seen.connects, [false, true], 'the second connection is a recovered session');
  await assertExactlyTheLog(server.url, seen, 'gap-user');
});

test('a reconnect before any event arrived recovers too', async (t) => {
  const server = await serverFor(t);
  const seen = await connectedDashboard(t, server.url, 'early-user', { reconnectionDelay: 1000, randomizationFactor: 0 });
  const back = waitFor(seen.socket, 'connect', () => true, 10 * TIMEOUT);
  seen.socket.io.engine.close();
  await createClients(server.url, 5, 'before any event');
  await back;
  assert.deepEqual(seen.connects, [false, true]);
  await assertExactlyTheLog(server.url, seen, 'early-user');
});

test('under a continuous producer, two drops leave exactly the logged sequence', async (t) => {
  const server = await serverFor(t);
  const seen = await connectedDashboard(t, server.url, 'stream-user');
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing; i++) await rest(server.url, 'POST', '/api/clients', { name: `stream ${i}` });
  })();
  await until(seen.socket, () => seen.ids.length >= 50, '50 events');
  await dropAndWait(seen);
  await until(seen.socket, () => seen.ids.length >= 150, '150 events');
  await dropAndWait(seen);
  await until(seen.socket, () => seen.ids.length >= 250, '250 events');
  producing = false;
  await producer;
  assert.deepEqual(seen.connects, [false, true, true]);
  await assertExactlyTheLog(server.url, seen, 'stream-user');
});

test('after the server is killed and restarted on the same database, nothing is missed', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pulso-recovery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PULSO_ADDR: `127.0.0.1:${await freePort()}`, DATABASE_URL: `sqlite://${dir}/pulso.db?mode=rwc` };
  let server = await startServer(env);
  t.after(() => stopServer(server));
  const seen = await connectedDashboard(t, server.url, 'restart-user', { reconnectionDelay: 500, reconnectionDelayMax: 500 });
  await createClients(server.url, 3, 'before the kill');
  await until(seen.socket, () => seen.ids.length === 3, 'the first events');

  await stopServer(server, 'SIGKILL');
  server = await startServer(env);
  // Written on the restarted server before the dashboard is back (it retries every 500 ms).
  await createClients(server.url, 10, 'after the restart');
  await until(seen.socket, () => seen.connects.length === 2, 'the reconnect', 10 * TIMEOUT);
  assert.deepEqual(seen.connects, [false, true]);
  await assertExactlyTheLog(server.url, seen, 'restart-user');
});

test('a pid captured by another user gives that user a new session and nothing of the owner', async (t) => {
  const server = await serverFor(t);
  // The owner comes back after the thief has tried.
  const owner = await connectedDashboard(t, server.url, 'owner', { reconnectionDelay: 1500, randomizationFactor: 0 });
  const pid = owner.socket._pid; // what an attacker might have captured
  assert.ok(pid, 'the CONNECT packet carried a pid');
  const ownerBack = waitFor(owner.socket, 'connect', () => true, 10 * TIMEOUT);
  const ownerNote = waitFor(owner.socket, 'notification', () => true, 10 * TIMEOUT);
  owner.socket.io.engine.close();
  await rest(server.url, 'POST', '/api/notifications', { user_id: 'owner', subject: 'private', message: 'for the owner only' });

  const thief = io(server.url, {
    auth: { api_key: 'dev', user_id: 'thief', pid, offset: '0' },
    forceNew: true,
    reconnection: false,
  });
  t.after(() => thief.close());
  const received = [];
  thief.onAny((event, envelope) => received.push([event, envelope]));
  await waitFor(thief, 'connection_established');
  assert.equal(thief.recovered, false, 'no recovery for another identity');
  assert.notEqual(thief._pid, pid, 'a new session');
  await rest(server.url, 'POST', '/api/clients', { name: 'after the thief connected' });
  await waitFor(thief, 'client_created');
  const leaked = received.filter(([event]) => event === 'notification');
  assert.deepEqual(leaked, [], "the owner's notification never reaches the thief");

  // The owner's session is intact: it recovers, with its notification.
  await ownerBack;
  assert.deepEqual(owner.connects, [false, true], 'the owner still recovers');
  assert.equal((await ownerNote).data.subject, 'private');
});

test('past the recovery window the client gets a new session', async (t) => {
  const server = await serverFor(t, { PULSO_RECOVERY_WINDOW_SECS: '2' });
  const seen = await connectedDashboard(t, server.url, 'late-user', { reconnectionDelay: 3000, randomizationFactor: 0 });
  await dropAndWait(seen);
  assert.deepEqual(seen.connects, [false, false]);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /pulso_recoveries_total\{outcome="expired"\} 1/);
});

test('a client that opts out gets one argument per event and no session', async (t) => {
  const server = await serverFor(t);
  const plain = io(server.url, { auth: { api_key: 'dev', user_id: 'plain', recovery: false }, forceNew: true });
  const usual = io(server.url, { auth: { api_key: 'dev', user_id: 'usual' }, forceNew: true });
  t.after(() => { plain.close(); usual.close(); });
  const args = (socket) => new Promise((resolve) => socket.once('client_created', (...all) => resolve(all)));
  await Promise.all([waitFor(plain, 'connection_established'), waitFor(usual, 'connection_established')]);
  assert.equal(plain._pid, undefined, 'no pid for a client that opted out');
  const [plainArgs, usualArgs] = await Promise.all([
    args(plain),
    args(usual),
    rest(server.url, 'POST', '/api/clients', { name: 'arguments' }),
  ]);
  assert.equal(plainArgs.length, 1);
  assert.equal(usualArgs.length, 2);
  assert.deepEqual(plainArgs[0], usualArgs[0], 'the same envelope');
  assert.equal(usualArgs[1], String(usualArgs[0].id), 'the offset is the event id');
});

const DATABASE = process.env.PULSO_TEST_DATABASE_URL;
const REDIS = process.env.PULSO_TEST_REDIS_URL;

test('on PostgreSQL + Redis, a client whose node was killed recovers on another node', {
  skip: DATABASE && REDIS ? false : 'SKIPPED: set PULSO_TEST_DATABASE_URL and PULSO_TEST_REDIS_URL',
}, async (t) => {
  const database = `pulso_recovery_${process.pid}`;
  const admin = new URL(DATABASE);
  const psql = (sql) => execFileSync('psql', [admin.href, '-q', '-c', sql]);
  psql(`DROP DATABASE IF EXISTS ${database}`);
  psql(`CREATE DATABASE ${database}`);
  t.after(() => psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  const url = new URL(DATABASE);
  url.pathname = `/${database}`;
  const env = { DATABASE_URL: url.href, REDIS_URL: REDIS, PULSO_REDIS_PREFIX: `pulso-recovery-${process.pid}` };
  const first = await startServer(env);
  const second = await startServer(env);
  t.after(() => Promise.all([stopServer(first), stopServer(second)]));

  // The dashboard's address leads to the first node until it dies, then to the second
  // (as a load balancer does).
  let target = new URL(first.url);
  const balancer = createServer((incoming) => {
    const outgoing = connect(Number(target.port), target.hostname);
    incoming.pipe(outgoing).pipe(incoming);
    const close = () => { incoming.destroy(); outgoing.destroy(); };
    incoming.on('error', close);
    outgoing.on('error', close);
    outgoing.on('close', close);
  });
  await new Promise((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  t.after(() => balancer.close());
  const seen = await connectedDashboard(t, `http://127.0.0.1:${balancer.address().port}`, 'cluster-user', {
    transports: ['websocket'],
    reconnectionDelay: 1000,
    randomizationFactor: 0,
  });
  // Both nodes write at once: each delivers its own events to its sockets at once and
  // the other's through Redis, yet the dashboard must get them in log order.
  await Promise.all([createClients(first.url, 100, 'on the first node'), createClients(second.url, 100, 'on the second node')]);
  await until(seen.socket, () => seen.ids.length === 200, 'the first events');
  assert.deepEqual(seen.ids, [...seen.ids].sort((a, b) => a - b), 'in log order');

  await stopServer(first, 'SIGKILL');
  target = new URL(second.url);
  await createClients(second.url, 10, 'on the second node');
  await until(seen.socket, () => seen.connects.length === 2, 'the reconnect', 10 * TIMEOUT);
  assert.deepEqual(seen.connects, [false, true]);
  await assertExactlyTheLog(second.url, seen, 'cluster-user');
});
