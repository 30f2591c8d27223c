// The Socket.IO Admin UI as its npm package ships it (@socket.io/admin-ui's ui/dist),
// served on loopback and opened in headless Chromium against a real pulso with the
// Admin UI on and a dashboard socket connected: it signs in, lists the server and the
// socket with its rooms, shows a room joined live and a socket's upgrade from
// long-polling to WebSocket, signs in from the copy pulso serves at /admin/, and
// disconnects the socket.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeWebSocket, NodeXHR } from 'engine.io-client';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, BIN, startPulso, type PulsoServer } from '../tests/pulso-server';
import { launchChromium } from './chromium';
import { screenshot } from './look';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(here, '../node_modules/@socket.io/admin-ui/ui/dist');
const USERNAME = 'ops';
const PASSWORD = 'an admin-ui e2e passphrase';
const WAIT_MS = 10_000;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
};

let server: PulsoServer | undefined;
let files: Server | undefined;
let uiUrl: string;
let browser: Browser | undefined;
let page: Page;
let dashboard: Socket | undefined;

/** Serves `DIST` on a free loopback port, as an operator would with any static server. */
async function serveUi(): Promise<string> {
  files = createServer(async (request, response) => {
    const wanted = new URL(request.url ?? '/', 'http://x').pathname;
    const file = path.join(DIST, wanted === '/' ? 'index.html' : wanted);
    if (!file.startsWith(DIST)) return void response.writeHead(403).end();
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => files!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
}

/** Opens the UI at `url`, fills its login form for pulso and waits until it is connected. */
async function signIn(ui: Page, url: string): Promise<void> {
  await ui.goto(url);
  await ui.getByLabel('Server URL').fill(server!.url);
  await ui.getByLabel('Username').fill(USERNAME);
  await ui.getByLabel('Password').fill(PASSWORD);
  // Its defaults: long-polling first, then WebSocket; the namespace /admin, the path
  // /socket.io.
  await ui.getByRole('button', { name: 'Connect' }).click();
  await ui.getByText('connected', { exact: true }).first().waitFor({ timeout: WAIT_MS });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

beforeAll(async () => {
  const hash = execFileSync(BIN, ['hash-password'], { input: `${PASSWORD}\n`, env: {} }).toString().trim();
  uiUrl = await serveUi();
  server = await startPulso({
    env: {
      PULSO_ADMIN_UI: 'true',
      PULSO_ADMIN_UI_ORIGINS: uiUrl,
      PULSO_ADMIN_USERNAME: USERNAME,
      PULSO_ADMIN_PASSWORD_HASH: hash,
      PULSO_ADMIN_UI_DIR: DIST,
    },
  });
  dashboard = io(server.url, {
    auth: { api_key: API_KEYS.staff, user_id: 'ana' },
    transports: ['websocket'],
    reconnection: false,
  });
  await connected(dashboard);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  dashboard?.close();
  await browser?.close();
  await new Promise((resolve) => (files ? files.close(resolve) : resolve(undefined)));
  await server?.stop();
});

describe('the Socket.IO Admin UI on pulso', () => {
  it('signs in and lists the server and the dashboard socket with its rooms', async () => {
    // From another origin: its long-polling calls pulso with credentials, through CORS.
    await signIn(page, uiUrl);

    await page.goto(`${uiUrl}/#/servers/`);
    await page.getByText(hostname()).first().waitFor({ timeout: WAIT_MS });
    await screenshot(page, 'admin-ui-servers');

    await page.goto(`${uiUrl}/#/sockets/`);
    await page.getByText(dashboard!.id!).waitFor({ timeout: WAIT_MS });
    await page.goto(`${uiUrl}/#/n/%2F/sockets/${dashboard!.id}`);
    await page.getByText('user:ana').waitFor({ timeout: WAIT_MS });
    await page.getByText('orders', { exact: true }).first().waitFor({ timeout: WAIT_MS });
  });

  it('shows a room the dashboard joins, live', async () => {
    const ack = await dashboard!.timeout(WAIT_MS).emitWithAck('join_room', 'sku:E2E-9');
    expect(ack.ok).toBe(true);
    await page.getByText('sku:E2E-9').waitFor({ timeout: WAIT_MS });
    await screenshot(page, 'admin-ui-socket');
  });

  it('shows a socket that upgrades from long-polling as on WebSocket, live', async () => {
    // socket.io-client's default transports, but the upgrade waits until the UI has
    // shown the socket on long-polling, so that only socket_updated can change it.
    let allowUpgrade!: () => void;
    const upgradeAllowed = new Promise<void>((resolve) => (allowUpgrade = resolve));
    class LateWebSocket extends NodeWebSocket {
      override doOpen(): this {
        void upgradeAllowed.then(() => super.doOpen());
        return this;
      }
    }
    const upgrading = io(server!.url, {
      auth: { api_key: API_KEYS.staff, user_id: 'bea' },
      transports: [NodeXHR, LateWebSocket],
      reconnection: false,
    });
    try {
      await connected(upgrading);
      await page.goto(`${uiUrl}/#/sockets/`);
      const row = page.getByRole('row', { name: new RegExp(upgrading.id!) });
      await row.getByText('HTTP long-polling').waitFor({ timeout: WAIT_MS });
      allowUpgrade();
      await row.getByText('WebSocket').waitFor({ timeout: WAIT_MS });
      expect(upgrading.io.engine.transport.name).toBe('websocket');
    } finally {
      upgrading.close();
    }
  });

  it('signs in from the page pulso serves itself at /admin/, from its own origin', async () => {
    const own = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await signIn(own, `${server!.url}/admin`);
      expect(new URL(own.url()).pathname).toBe('/admin/');
      await own.goto(`${server!.url}/admin/#/sockets/`);
      await own.getByText(dashboard!.id!).waitFor({ timeout: WAIT_MS });
      await screenshot(own, 'admin-ui-served-by-pulso');
    } finally {
      await own.close();
    }
  });

  it('disconnects the dashboard socket from the sockets page', async () => {
    const gone = new Promise<string>((resolve) => dashboard!.once('disconnect', resolve));
    await page.goto(`${uiUrl}/#/sockets/`);
    const row = page.getByRole('row', { name: new RegExp(dashboard!.id!) });
    await row.getByRole('button').click();
    expect(await gone).toBe('io server disconnect');
  });
});
