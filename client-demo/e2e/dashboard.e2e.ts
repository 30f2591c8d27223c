// Two dashboards in headless Chromium (Debian's package, driven by playwright-core) against
// the built demo and a real pulso on a SQLite file, so the server can restart on the same
// port with the same data. Screenshots of both pages land in test-artifacts/ on failure.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEYS, freePort, startPulso, type PulsoServer } from '../tests/pulso-server';
import { launchChromium } from './chromium';
import { expectAccessible, screenshot } from './look';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'test-artifacts');
const WAIT_MS = 10_000;
/** socket.io-client's own back-off (up to 5 s, randomized) decides how soon it is back. */
const RECONNECT_MS = 20_000;

let dataDir: string;
let pulsoAddr: string;
let databaseUrl: string;
let server: PulsoServer | undefined;
let site: PreviewServer | undefined;
let browser: Browser | undefined;
let pageA: Page;
let pageB: Page;
let firstOrder: number;

const startServer = () => startPulso({ addr: pulsoAddr, databaseUrl, logFile: path.join(artifacts, 'pulso.log') });

beforeAll(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'pulso-demo-'));
  pulsoAddr = `127.0.0.1:${await freePort()}`;
  databaseUrl = `sqlite://${path.join(dataDir, 'demo.db')}?mode=rwc`;
  server = await startServer();

  // The same proxy as `npm run preview`, pointed at this server.
  process.env.PULSO_URL = server.url;
  site = await preview({
    root,
    logLevel: 'silent',
    preview: { host: '127.0.0.1', port: await freePort(), strictPort: true },
  });

  browser = await launchChromium();
  [pageA, pageB] = [await open(), await open()];
});

/** One window each, so no page is a background tab that Chromium throttles. */
async function open(): Promise<Page> {
  const context = await browser!.newContext({
    viewport: { width: 1400, height: 1000 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(WAIT_MS);
  return context.newPage();
}

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    const name = task.name.replace(/\W+/g, '-');
    for (const [label, page] of Object.entries({ A: pageA, B: pageB })) {
      // Best effort: a page that is gone must not hide the test's own error.
      await page
        ?.screenshot({ path: path.join(artifacts, `${name}-page-${label}.png`), fullPage: true })
        .catch(() => {});
    }
  });
});

const status = (page: Page, state: string) => page.locator(`[data-testid="connection-status"][data-state="${state}"]`);
const unread = (page: Page, count: number) =>
  page.getByTestId('unread-count').filter({ hasText: new RegExp(`^${count}$`) });
const form = (page: Page, name: string) => page.getByRole('form', { name });
const panel = (page: Page, name: string) => page.getByRole('region', { name, exact: true });
const siteOrigin = () => new URL(site!.resolvedUrls!.local[0]).origin;
/** How the pages (en-US, UTC) write a moment. */
const dateAndTime = (iso: string | null) =>
  new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso!));

async function signIn(page: Page, userId: string, apiKey: string = API_KEYS.admin) {
  await submitSignIn(page, userId, apiKey);
  await status(page, 'connected').waitFor();
}

async function submitSignIn(page: Page, userId: string, apiKey: string = API_KEYS.admin) {
  await page.getByRole('textbox', { name: 'API key' }).fill(apiKey);
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Creates or changes an item with the page's form; empty fields are left as they are. */
async function saveItem(page: Page, fields: { sku: string; name?: string; quantity?: string; threshold?: string }) {
  const item = form(page, 'Item');
  await item.getByLabel('SKU').fill(fields.sku);
  await item.getByLabel('Name').fill(fields.name ?? '');
  await item.getByLabel('Quantity').fill(fields.quantity ?? '');
  await item.getByLabel('Low-stock threshold').fill(fields.threshold ?? '');
  await item.getByRole('button', { name: 'Save item' }).click();
  await item.getByText(`${fields.sku} saved`).waitFor();
}

/** Creates an order with the page's form and returns its id. */
async function createOrder(
  page: Page,
  clientName: string,
  sku: string,
  quantity: number,
  price: string,
): Promise<number> {
  const order = form(page, 'New order');
  const client = order.getByLabel('Client');
  const value = await client.locator('option', { hasText: clientName }).getAttribute('value');
  await client.selectOption(value!);
  await order.getByLabel('SKU').fill(sku);
  await order.getByLabel('Quantity').fill(String(quantity));
  await order.getByLabel('Unit price').fill(price);
  const created = order.locator('.ok').filter({ hasText: /^Order #\d+ created/ });
  const [previous] = await created.allTextContents();
  await order.getByRole('button', { name: 'Create order' }).click();
  const outcome = await (previous ? created.filter({ hasNotText: previous }) : created).textContent();
  return Number(/#(\d+)/.exec(outcome ?? '')?.[1]);
}

describe.sequential('the dashboard in a real browser', () => {
  it('shows why a JWT is refused, then signs in with an API key in two pages', async () => {
    await pageA.goto(site!.resolvedUrls!.local[0]);
    await screenshot(pageA, 'sign-in');
    await expectAccessible(pageA);
    await pageA.getByLabel('JWT').check();
    await pageA.getByLabel('Token').fill('eyJhbGciOiJIUzI1NiJ9.e30.bogus');
    await pageA.getByRole('button', { name: 'Sign in' }).click();
    await pageA
      .getByTestId('refusal')
      .filter({ hasText: /^The server refused to sign you in: \w.*\.$/ })
      .waitFor();
    await screenshot(pageA, 'sign-in-refused');
    await expectAccessible(pageA);
    await pageA.getByRole('button', { name: 'Back to sign-in' }).click();

    // By keyboard: Enter in a field signs in.
    await pageA.getByRole('textbox', { name: 'User id' }).fill('alice');
    await pageA.getByRole('textbox', { name: 'User id' }).press('Enter');
    await status(pageA, 'connected').waitFor();
    await pageB.goto(site!.resolvedUrls!.local[0]);
    await signIn(pageB, 'alice');
    // The sign-in is remembered in the tab.
    await pageB.reload();
    await status(pageB, 'connected').waitFor();
    expect(await pageB.getByTestId('who').textContent()).toBe('alice (admin)');
    await unread(pageA, 0).waitFor();
    await unread(pageB, 0).waitFor();
  });

  it('creates a client, an item and an order in one page and shows them live in the other', async () => {
    const client = form(pageA, 'New client');
    await client.getByLabel('Name').fill('Acme');
    await client.getByLabel('Email').fill('orders@acme.test');
    await client.getByLabel('Email').press('Enter'); // by keyboard
    await client.getByText(/Client #\d+ Acme created/).waitFor();
    // The other page lists it with its details.
    await panel(pageB, 'Clients').getByRole('row', { name: /^Acme orders@acme\.test — \w{3} \d+, \d{4}/ }).waitFor();

    await saveItem(pageA, { sku: 'E2E-1', name: 'Widget', quantity: '10', threshold: '3' });
    await pageB.locator('tr[data-sku="E2E-1"][data-low="false"]').getByText('10', { exact: true }).waitFor();

    // The server's validation errors appear next to the fields they name.
    const order = form(pageA, 'New order');
    await order.getByLabel('Quantity').fill('0');
    await order.getByLabel('Unit price').fill('2.50');
    await order.getByRole('button', { name: 'Create order' }).click();
    await order.locator('.field.invalid:has(select[name="client_id"]) .field-error').waitFor();
    await order.locator('.field.invalid:has(input[name="items[0].quantity"]) .field-error').waitFor();
    // In words, next to the fields, and no parser paths or codes anywhere.
    await order
      .getByRole('alert')
      .filter({ hasText: 'The server refused: please correct the fields marked below.' })
      .waitFor();
    await order.getByLabel('Quantity').and(order.getByLabel('must be a whole number from 1 to')).waitFor();
    await order.getByLabel('Client').and(order.getByLabel('must be a client id')).waitFor();
    await screenshot(pageA, 'field-errors');
    expect(await pageA.locator('main').innerText()).not.toMatch(/items\[0\]|invalid fields|unit_price/);

    firstOrder = await createOrder(pageA, 'Acme', 'E2E-1', 8, '2.50');
    const row = pageB.locator(`tr[data-order-id="${firstOrder}"]`);
    await row.filter({ hasText: '$20.00' }).filter({ hasText: 'pending' }).waitFor();
    expect(await row.getAttribute('class')).toContain('row-new');
    const placed = row.locator('time');
    expect(await placed.textContent()).toBe(dateAndTime(await placed.getAttribute('datetime')));
    // 10 - 8 = 2 is at or below the threshold of 3: highlighted, and an alert.
    await pageB.locator('tr.low[data-sku="E2E-1"][data-low="true"]').getByText('2', { exact: true }).waitFor();
    // The alert is the threshold's (a report would add "— reported"), and the only one.
    const alerts = pageB.getByTestId('alerts').locator('li');
    await alerts.filter({ hasText: /^E2E-1 Widget: 2 left \(threshold 3\)\d/ }).waitFor();
    expect(await alerts.count()).toBe(1);
  });

  it("changes an order's status in one page and shows it in the other, offering only allowed moves", async () => {
    const update = form(pageA, 'Order status');
    const moves = update.getByLabel('New status').locator('option');
    await update.getByLabel('Order').selectOption({ label: `#${firstOrder} (pending)` });
    await expect.poll(() => moves.allTextContents()).toEqual(['confirmed', 'cancelled']);
    await update.getByLabel('New status').selectOption('confirmed');
    await update.getByRole('button', { name: 'Update status' }).click();
    await pageB.locator(`tr[data-order-id="${firstOrder}"] .status-moved`).filter({ hasText: 'confirmed' }).waitFor();
    await update.getByText(`Order #${firstOrder} is confirmed.`).waitFor();
    // From confirmed the server allows shipped or cancelled, and nothing else is offered.
    await expect.poll(() => moves.allTextContents()).toEqual(['shipped', 'cancelled']);
  });

  it('delivers a test broadcast as a toast, and keeps the unread count in step in both pages', async () => {
    const broadcast = form(pageA, 'Test broadcast');
    await broadcast.getByLabel('Title').fill('E2E broadcast');
    await broadcast.getByLabel('Content').fill('Hello, both pages');
    // A toast shows for 8 s: both pages watch for it from before it is sent.
    const toast = (page: Page) =>
      page.getByTestId('toast').filter({ hasText: 'E2E broadcast' }).filter({ hasText: 'Hello, both pages' });
    const toasts = Promise.all([pageA, pageB].map((page) => toast(page).waitFor()));
    await broadcast.getByRole('button', { name: 'Broadcast' }).click();
    await broadcast.getByText(/Sent to \d+ sockets/).waitFor();
    await toasts;
    for (const page of [pageA, pageB]) await unread(page, 1).waitFor();

    await pageB.getByRole('button', { name: 'Notifications' }).click();
    await panel(pageB, 'Notifications').getByRole('button', { name: 'Mark read', exact: true }).click();
    for (const page of [pageA, pageB]) await unread(page, 0).waitFor();
    await pageB.getByRole('button', { name: 'Notifications' }).click();
    await pageA.getByRole('button', { name: 'Notifications' }).click();
    const inbox = panel(pageA, 'Notifications');
    const read = inbox.locator('li.read', { hasText: 'E2E broadcast' });
    await read.waitFor();
    // Each notification says when it was sent.
    const sent = read.locator('time');
    expect(await sent.textContent()).toBe(dateAndTime(await sent.getAttribute('datetime')));
    // The open inbox pushes the panels down rather than covering any of them.
    await toast(pageA).getByRole('button', { name: 'Dismiss' }).click();
    await toast(pageA).waitFor({ state: 'detached' });
    await screenshot(pageA, 'inbox-open');
    const inboxBox = (await inbox.boundingBox())!;
    for (const name of ['Orders', 'Inventory', 'Figures', 'Stock alerts']) {
      const box = (await panel(pageA, name).boundingBox())!;
      expect(box.y, `${name} starts below the inbox`).toBeGreaterThanOrEqual(inboxBox.y + inboxBox.height);
    }
    await expectAccessible(pageA);
    await pageA.getByRole('button', { name: 'Notifications' }).press('Enter'); // closes, by keyboard
    await inbox.waitFor({ state: 'detached' });

    // The admin panel's live /ws/stats counts both pages.
    await pageA.getByTestId('stats-connections').filter({ hasText: /^2$/ }).waitFor();
  });

  it('narrows a dashboard to the rooms it picks', async () => {
    const rooms = pageB.getByRole('region', { name: 'Rooms' });
    // Rooms, raw events and the server's internals are in a Developer section, closed at first.
    expect(await rooms.isVisible()).toBe(false);
    expect(await pageB.getByRole('region', { name: 'Live events' }).isVisible()).toBe(false);
    expect(await pageB.getByText(/^\d+ ms$/).isVisible()).toBe(false);
    await pageB.locator('summary').filter({ hasText: 'Developer' }).press('Enter'); // by keyboard
    await rooms.waitFor();
    await pageB.getByRole('region', { name: 'Live events' }).getByText('connection_established').waitFor();
    await pageB.getByRole('region', { name: 'Live /ws/stats' }).getByText(/^\d+ ms$/).waitFor();

    const inventory = rooms.getByLabel('inventory');
    await inventory.click(); // leave the topic room...
    await expect.poll(() => inventory.isChecked()).toBe(false);
    // ...and the page says what it stops showing, also on the section's closed title.
    await rooms
      .getByText('Not following inventory: stock changes stop arriving; the inventory table no longer updates live.')
      .waitFor();
    await pageB.locator('summary').getByText('— not following inventory').waitFor();
    await screenshot(pageB, 'developer-section');
    await expectAccessible(pageB);
    await rooms.getByLabel('Room to join').fill('sku:E2E-1'); // ...but follow one SKU
    await rooms.getByRole('button', { name: 'Join' }).click();
    await rooms.getByRole('button', { name: 'Leave sku:E2E-1' }).waitFor();

    await saveItem(pageA, { sku: 'E2E-2', name: 'Gadget', quantity: '5' });
    await saveItem(pageA, { sku: 'E2E-1', quantity: '7' });
    // Events arrive in order: once E2E-1's update is shown, E2E-2's would have been too.
    await pageB.locator('tr[data-sku="E2E-1"]').getByText('7', { exact: true }).waitFor();
    expect(await pageB.locator('tr[data-sku="E2E-2"]').count()).toBe(0);
    await pageA.locator('tr[data-sku="E2E-2"]').waitFor();
  });

  it('shows reconnecting while the server restarts, then carries on live', async () => {
    await server!.stop();
    server = undefined;
    for (const page of [pageA, pageB]) await status(page, 'reconnecting').waitFor();
    // Offline, nothing can be sent, and the page says why; the admin's statistics are marked stale.
    const sendButtons = {
      'New client': 'Create client',
      Item: 'Save item',
      'New order': 'Create order',
      'Order status': 'Update status',
      'Test broadcast': 'Broadcast',
    };
    for (const [name, button] of Object.entries(sendButtons)) {
      await form(pageA, name).getByRole('button', { name: button, disabled: true }).waitFor();
      await form(pageA, name).getByText('Sending is off until the connection to the server is back.').waitFor();
    }
    for (const figures of [pageA.getByTestId('stats'), panel(pageA, 'Figures')]) {
      await figures.getByText(/^Stale: as of .*, before the connection was lost/).waitFor();
    }
    const offlineNote = 'Until then the page shows what it last knew, and sending is off.';
    await pageA.getByRole('alert').getByText(offlineNote).waitFor();
    const rooms = pageB.getByRole('region', { name: 'Rooms' });
    await rooms.getByRole('button', { name: 'Join', disabled: true }).waitFor();
    expect(await rooms.getByLabel('orders').isDisabled()).toBe(true);
    await screenshot(pageA, 'offline-admin');
    await expectAccessible(pageA);

    server = await startServer();
    for (const page of [pageA, pageB]) await status(page, 'connected').waitFor({ timeout: RECONNECT_MS });
    // Page B came back in the rooms it had picked.
    await rooms.getByRole('button', { name: 'Leave sku:E2E-1' }).waitFor();
    expect(await rooms.getByLabel('inventory').isChecked()).toBe(false);

    for (const [name, button] of Object.entries(sendButtons)) {
      await form(pageA, name).getByRole('button', { name: button, disabled: false }).waitFor();
    }
    await pageA.getByText(/^Stale:/).waitFor({ state: 'detached' });
    const orderId = await createOrder(pageA, 'Acme', 'E2E-1', 1, '2.50');
    await pageB.locator(`tr[data-order-id="${orderId}"]`).filter({ hasText: 'pending' }).waitFor();
    await pageB.locator(`tr[data-order-id="${firstOrder}"]`).filter({ hasText: 'confirmed' }).waitFor();
  });

  it('lists the items low on stock from before it opened, and keeps them and the figures live', async () => {
    // Made low while no page of this user is open: only the server can tell the new page.
    const created = await fetch(`${server!.url}/api/inventory`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': API_KEYS.admin, 'X-User-Id': 'seeder' },
      body: JSON.stringify({ sku: 'E2E-LOW', name: 'Bolt', quantity: 1, low_stock_threshold: 4 }),
    });
    expect(created.status).toBe(201);
    const page = await open();
    try {
      await page.goto(site!.resolvedUrls!.local[0]);
      await signIn(page, 'carol');
      const alerts = page.getByTestId('alerts').locator('li');
      await alerts.filter({ hasText: /^E2E-LOW Bolt: 1 left \(threshold 4\)\d/ }).waitFor();
      expect(await alerts.count()).toBe(1);
      const figure = (name: string) => page.getByTestId(name);
      await figure('low-stock-items').filter({ hasText: /^1$/ }).waitFor();

      const before = {
        today: Number(await figure('orders-today').textContent()),
        pending: Number(await figure('orders-pending').textContent()),
        cents: Math.round(Number((await figure('revenue-today').textContent())!.replace(/[$,]/g, '')) * 100),
      };
      expect(before.today).toBeGreaterThan(0);
      await createOrder(page, 'Acme', 'E2E-1', 2, '1.25');
      await figure('orders-today').filter({ hasText: new RegExp(`^${before.today + 1}$`) }).waitFor();
      await figure('orders-pending').filter({ hasText: new RegExp(`^${before.pending + 1}$`) }).waitFor();
      const revenue = ((before.cents + 250) / 100).toFixed(2);
      await figure('revenue-today').filter({ hasText: new RegExp(`^\\$${revenue.replace('.', '\\.')}$`) }).waitFor();

      // Restocked above its threshold, the item leaves the panel.
      await saveItem(page, { sku: 'E2E-LOW', quantity: '10' });
      await alerts.filter({ hasText: 'E2E-LOW' }).waitFor({ state: 'detached' });
      await page.getByText('No item is low on stock.').waitFor();
      await figure('low-stock-items').filter({ hasText: /^0$/ }).waitFor();
    } finally {
      await page.context().close();
    }
  });
  it('lets staff report low stock, which staff pages show as a toast and an alert', async () => {
    const [staff, viewer] = [await open(), await open()];
    try {
      await staff.goto(site!.resolvedUrls!.local[0]);
      await signIn(staff, 'sam', API_KEYS.staff);
      await viewer.goto(site!.resolvedUrls!.local[0]);
      await signIn(viewer, 'vic', API_KEYS.viewer);
      expect(await form(viewer, 'Report low stock').count()).toBe(0);
      const report = form(staff, 'Report low stock');
      await report.getByLabel('SKU').fill('NOPE-1');
      await report.getByRole('button', { name: 'Report', exact: true }).click();
      await report.getByRole('alert').filter({ hasText: 'The server refused: no item with sku NOPE-1.' }).waitFor();

      const toast = (page: Page) =>
        page
          .getByTestId('toast')
          .filter({ hasText: 'Low stock: E2E-1 Widget' })
          .filter({ hasText: 'reported: back shelf empty' });
      const toasts = Promise.all([staff, pageA].map((page) => toast(page).waitFor()));
      await report.getByLabel('SKU').fill('E2E-1');
      await report.getByLabel('Note (optional)').fill('back shelf empty');
      await report.getByRole('button', { name: 'Report', exact: true }).click();
      await report.getByText(/^Reported: E2E-1 Widget, \d+ left\.$/).waitFor();
      await toasts;
      const alert = /^E2E-1 Widget: \d+ left \(threshold \d+\) — reported: back shelf empty/;
      await panel(pageA, 'Stock alerts').getByText(alert).waitFor();
      // A viewer sees the alert in the panel, from the same event, but no toast.
      await panel(viewer, 'Stock alerts').getByText(alert).waitFor();
      expect(await viewer.getByTestId('toast').count()).toBe(0);
      await screenshot(staff, 'staff-reported-low-stock');
      await expectAccessible(staff);
    } finally {
      await staff.context().close();
      await viewer.context().close();
    }
  });

  it('lets an admin send a notification to one user, who alone gets it', async () => {
    const staff = await open();
    try {
      await staff.goto(site!.resolvedUrls!.local[0]);
      await signIn(staff, 'sam', API_KEYS.staff);
      const before = Number(await staff.getByTestId('unread-count').textContent());

      const send = form(pageA, 'Send a notification');
      await send.getByLabel('To user id').fill('sam');
      await send.getByLabel('Subject').fill('Stock count');
      await send.getByLabel('Message').fill('Please count aisle 4 today');
      await send.getByLabel('Severity').selectOption('warning');
      const arrived = staff
        .getByTestId('toast')
        .filter({ hasText: 'Stock count' })
        .filter({ hasText: 'Please count aisle 4 today' })
        .waitFor();
      await send.getByRole('button', { name: 'Send', exact: true }).click();
      await send.getByText('"Stock count" sent to sam.').waitFor();
      await arrived;
      await unread(staff, before + 1).waitFor();

      // Not in the sender's own inbox (loaded from the server when opened).
      await pageA.getByRole('button', { name: 'Notifications' }).click();
      const inbox = panel(pageA, 'Notifications');
      await inbox.getByText('E2E broadcast').waitFor();
      expect(await inbox.getByText('Stock count').count()).toBe(0);
      await pageA.getByRole('button', { name: 'Notifications' }).click();
      await inbox.waitFor({ state: 'detached' });
    } finally {
      await staff.context().close();
    }
  });

  it('shows who is online: the server\'s list when a page opens, then arrivals and departures live', async () => {
    const online = (page: Page) => panel(page, 'Online now').getByRole('listitem');
    await online(pageA).filter({ hasText: /^alice \(admin\) — you$/ }).waitFor();
    expect(await online(pageA).filter({ hasText: /^alice/ }).count()).toBe(1); // two pages, one person

    const staff = await open();
    try {
      await staff.goto(site!.resolvedUrls!.local[0]);
      await signIn(staff, 'pat', API_KEYS.staff);
      // alice was online before this page opened: only GET /api/presence can tell it.
      await online(staff).filter({ hasText: /^alice \(admin\)$/ }).waitFor();
      await online(staff).filter({ hasText: /^pat \(staff\) — you$/ }).waitFor();
      // The page that was already open learns of pat as pat arrives.
      await online(pageA).filter({ hasText: /^pat \(staff\)$/ }).waitFor();
      await screenshot(staff, 'online-now');
      await expectAccessible(staff);
    } finally {
      await staff.context().close();
    }
    await online(pageA).filter({ hasText: /^pat/ }).waitFor({ state: 'detached' });
  });

  it('says plainly that the server cannot be reached, what to check and when it tries again', async () => {
    await server!.stop();
    server = undefined;
    const page = await open();
    try {
      await page.goto(site!.resolvedUrls!.local[0]);
      await submitSignIn(page, 'dana');
      const problem = page.getByRole('alert').filter({ has: page.getByRole('heading') });
      await problem.getByRole('heading', { name: `The server at ${siteOrigin()} cannot be reached.` }).waitFor();
      await problem.getByText('Check that pulso is running at that address and that this computer is online.').waitFor();
      await problem.getByText('Nothing can be shown until then.').waitFor();
      await problem.getByText(/^(Next try in \d+ s\.|Trying again now…)$/).waitFor();
      for (const name of ['Orders', 'Inventory', 'Stock alerts', 'Figures', 'Clients', 'Online now']) {
        await panel(page, name).getByText('Not loaded yet: waiting for the server.').waitFor();
      }
      // No placeholder count on the bell while the count is unknown.
      await page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
      expect(await page.getByTestId('unread-count').count()).toBe(0);
      await screenshot(page, 'server-unreachable');
      await expectAccessible(page);

      server = await startServer();
      await status(page, 'connected').waitFor({ timeout: RECONNECT_MS });
      await problem.waitFor({ state: 'detached' });
      await panel(page, 'Orders').locator(`tr[data-order-id="${firstOrder}"]`).waitFor();
      await page.getByTestId('unread-count').filter({ hasText: /^\d+$/ }).waitFor();
    } finally {
      await page.context().close();
    }
    // The other pages came back too.
    for (const other of [pageA, pageB]) await status(other, 'connected').waitFor({ timeout: RECONNECT_MS });
  });
});
