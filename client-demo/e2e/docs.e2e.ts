// The contract's page (/api/docs, served by pulso itself) in headless Chromium: it shows
// every command, event, route and type of the documents the same server publishes, its
// links land on an entry, and it asks nothing of any other origin.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPulso, type PulsoServer } from '../tests/pulso-server';
import { launchChromium } from './chromium';

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test-artifacts');
const WAIT_MS = 10_000;

/** The parts of the documents the page is checked against. */
interface AsyncApi {
  components: { schemas: object; messages: Record<string, { name: string }> };
}
interface OpenApi {
  components: { schemas: object };
  paths: Record<string, object>;
}

let server: PulsoServer | undefined;
let browser: Browser | undefined;
let page: Page;
let asyncapi: AsyncApi;
let openapi: OpenApi;
const requests: string[] = [];
const pageErrors: string[] = [];

async function served<T>(route: string): Promise<T> {
  const response = await fetch(server!.url + route);
  expect(response.status, route).toBe(200);
  return (await response.json()) as T;
}

beforeAll(async () => {
  server = await startPulso();
  [asyncapi, openapi] = [await served<AsyncApi>('/api/asyncapi.json'), await served<OpenApi>('/api/openapi.json')];
  browser = await launchChromium();
  page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  // Listening before the page loads: every request it makes is seen.
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${server.url}/api/docs`);
  const main = page.locator('main');
  await page.locator('main:not([data-state="loading"])').waitFor();
  expect(await main.getAttribute('data-state'), (await main.textContent()) ?? '').toBe('ready');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, `docs-${task.name.replace(/\W+/g, '-')}.png`);
    await page?.screenshot({ path: file, fullPage: true }).catch(() => {});
  });
});

/** The names a message key prefix (`command.`, `event.`) gives in the AsyncAPI document. */
const messageNames = (prefix: string) =>
  Object.entries(asyncapi.components.messages)
    .filter(([key]) => key.startsWith(prefix))
    .map(([, message]) => message.name);
const headings = (section: string) => page.locator(`#${section} h4`).allTextContents();
const sorted = (names: string[]) => [...names].sort();

describe('the contract page in a real browser', () => {
  it('shows every command, event, route and type of the served documents, once each', async () => {
    const routes = Object.entries(openapi.paths).flatMap(([route, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`),
    );
    const types = Object.keys({ ...asyncapi.components.schemas, ...openapi.components.schemas });
    // The documents are not empty: the comparisons below compare something.
    expect(messageNames('command.')).toContain('order:create');
    expect(messageNames('event.')).toContain('order_created');
    expect(routes).toContain('POST /api/orders');

    expect(sorted(await headings('commands'))).toEqual(sorted(messageNames('command.')));
    expect(sorted(await headings('events'))).toEqual(sorted(messageNames('event.')));
    expect(sorted(await headings('routes'))).toEqual(sorted(routes));
    expect(sorted(await headings('types'))).toEqual(sorted(types));
  });

  it('renders shapes compactly, with type names linking to their definitions', async () => {
    const newOrder = page.locator('#type-NewOrder pre');
    expect(await newOrder.textContent()).toContain('items: NewOrderLine[1..100]');
    expect(await newOrder.textContent()).toContain('client_id: integer ≥ 1');
    await newOrder.getByRole('link', { name: 'NewOrderLine' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#type-NewOrderLine');

    const links = await page.locator('a[href^="#"]').evaluateAll((anchors) =>
      anchors.map((a) => a.getAttribute('href')!.slice(1)),
    );
    expect(links).toContain('type-NewOrderLine');
    const dangling = await page.evaluate((ids) => ids.filter((id) => !document.getElementById(id)), links);
    expect(dangling).toEqual([]);
  });

  it('asks nothing of another origin, and throws nothing', async () => {
    const origin = new URL(server!.url).origin;
    expect(requests).toContain(`${origin}/api/asyncapi.json`);
    expect(requests).toContain(`${origin}/api/openapi.json`);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
