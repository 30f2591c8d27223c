// What a person would see: screenshots kept as test artifacts, and axe-core's accessibility
// check of the page as it is now.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const screens = path.join(root, 'test-artifacts', 'screens');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Saves the whole page as `test-artifacts/screens/{name}.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screens, `${name}.png`), fullPage: true });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Fails on every serious or critical axe-core violation (labels, contrast, keyboard, …). */
export async function expectAccessible(page: Page): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run: () => Promise<{ violations: unknown[] }> } };
    return (await axe.run()).violations as AxeViolation[];
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length > 0) {
    const where = (v: AxeViolation) => v.nodes.map((n) => n.target.join(' ')).join(', ');
    const lines = serious.map((v) => `${v.impact} ${v.id}: ${v.help} at ${where(v)}`);
    throw new Error(`accessibility violations:\n${lines.join('\n')}`);
  }
}
