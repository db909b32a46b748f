// Benchmark: the WebAssembly a browser downloads on a first visit to a page (an empty cache),
// page by page: the main module and the page's chunks. For each file fetched it takes the
// size of the file served and of its brotli copy (scripts/compress-site.sh) from the site
// directory, and prints the totals. Run by scripts/wasm-size.sh against the release build.
import { test, expect, type Page, type BrowserContext } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { signIn } from '../tests/wharf';

const who = { email: 'bench@example.com', password: 'bench password 2026' };
const pkg = path.join(process.env.WHARF_SITE_ROOT ?? path.join(__dirname, '..', '..', 'target', 'site-release'), 'pkg');

function size(file: string): number {
  return fs.existsSync(file) ? fs.statSync(file).size : NaN;
}

async function visit(context: BrowserContext, url: string): Promise<{ files: string[]; page: Page }> {
  const page = await context.newPage();
  const files: string[] = [];
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.endsWith('.wasm')) files.push(path.basename(p));
  });
  await page.goto(url);
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  return { files, page };
}

test('WASM downloaded on a first visit, page by page', async ({ browser }) => {
  const signedIn = await browser.newContext();
  await signIn(await signedIn.newPage(), who);
  const state = await signedIn.storageState();
  await signedIn.close();
  const pages: [string, string, boolean][] = [
    ['sign-in', '/login', false],
    ['home', '/', true],
    ['executions', '/executions', true],
    ['pipelines', '/pipelines', true],
    ['pipeline editor', '/pipelines/new', true],
    ['docker triggers', '/triggers/docker', true],
  ];
  const lines: string[] = [];
  for (const [name, url, needsSignIn] of pages) {
    // a context of its own: an empty cache, as on a first visit
    const context = await browser.newContext(needsSignIn ? { storageState: state } : {});
    const { files } = await visit(context, url);
    await context.close();
    const raw = files.reduce((s, f) => s + size(path.join(pkg, f)), 0);
    const br = files.reduce((s, f) => s + size(path.join(pkg, f) + '.br'), 0);
    lines.push(`${name.padEnd(16)} ${url.padEnd(16)} files ${String(files.length).padStart(2)}  raw ${String(raw).padStart(9)}  brotli ${String(br).padStart(8)}`);
  }
  console.log(`RESULT first visit, WASM per page (site ${pkg}):\n` + lines.join('\n'));
});
