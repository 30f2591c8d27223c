// What the Node suites share: the real pulso binary started as a child process, and
// socket.io-client helpers that wait for events with timeouts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.PULSO_BIN ?? path.resolve(here, '../../target/debug/pulso');
export const TIMEOUT = 5000;

/**
 * Starts the server (by default on a free port with an in-memory database, the rest
 * from `env`); resolves to { child, url }.
 */
export function startServer(env = {}) {
  const child = spawn(BIN, [], {
    env: {
      ...process.env,
      PULSO_ADDR: '127.0.0.1:0', // the OS picks a free port; we read it back from the log
      DATABASE_URL: 'sqlite::memory:',
      PULSO_LOG_FORMAT: 'json',
      RUST_LOG: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('server did not log "pulso listening" within 15 s'));
    }, 15000);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited early (code ${code})`)); });
    // The listening line carries the real bound address in its `addr` field.
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry;
      try { entry = JSON.parse(line); } catch { return; } // ignore non-JSON output
      if (entry.message?.startsWith('pulso listening')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url: `http://${entry.addr}` });
      }
    });
  });
}

/** Kills a server with `signal` and resolves once it has exited. */
export function stopServer({ child }, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  return exited;
}

/** A TCP port free right now (for a server that must come back on the same address). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves with the first `event` payload that matches `predicate`; rejects after `ms`. */
export function waitFor(socket, event, predicate = () => true, ms = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`timed out waiting for "${event}"`));
    }, ms);
    function listener(payload) {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    }
    socket.on(event, listener);
  });
}

/** A socket that is not connected yet, so listeners can be attached before the handshake. */
export function client(url, auth, opts = {}) {
  return io(url, { auth, autoConnect: false, reconnection: false, forceNew: true, ...opts });
}

/** Sends a command and asserts the ack is ok; returns its data. */
export async function command(socket, name, payload) {
  const ack = await socket.timeout(TIMEOUT).emitWithAck(name, payload);
  assert.equal(ack.ok, true, `${name} failed: ${JSON.stringify(ack.error)}`);
  return ack.data;
}

/** A REST call with the development key speaking for `user`; returns the JSON body. */
export async function rest(url, method, route, body, user = 'rest-user') {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': 'dev', 'x-user-id': user },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
