// Every page of the app, once the suites before it have filled them: axe finds no serious or
// critical violation, and at a phone's width (390 px) nothing scrolls sideways and the
// navigation folds into a menu. Screenshots of each page at that width are looked at.
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { admin, ids, gotoHydrated, screenshot, signIn, signOut } from './wharf';

// 15 pages, each loaded, hydrated and checked by axe (about 2 s a page here): more than the
// 30 s one test has by default
test.describe.configure({ mode: 'serial', timeout: 180_000 });

/** The pages, by name, with the first link of a list to follow for its detail page. */
const PAGES: [string, string][] = [
  ['home', '/'],
  ['executions', '/executions'],
  ['user-operations', '/user-operations'],
  ['pipelines', '/pipelines'],
  ['pipeline-new', '/pipelines/new'],
  ['triggers-docker', '/triggers/docker'],
  ['endpoints', '/endpoints'],
  ['variables', '/variables'],
  ['projects', '/projects'],
  ['users', '/users'],
  ['tokens', '/tokens'],
];

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Every page, and the detail pages its lists link to. */
async function everyPage(page: Page): Promise<[string, string][]> {
  const all = [...PAGES];
  await gotoHydrated(page, '/executions');
  const execution = await page.locator('a[href^="/executions/"]').first().getAttribute('href');
  if (execution) all.push(['execution-detail', execution]);
  await gotoHydrated(page, '/pipelines');
  const pipeline = await page.locator('a[href^="/pipelines/"]:not([href="/pipelines/new"])').first().getAttribute('href');
  if (pipeline) all.push(['pipeline-detail', pipeline]);
  await gotoHydrated(page, '/projects');
  const project = await page.locator('a[href^="/projects/"]').first().getAttribute('href');
  if (project) all.push(['project-detail', project]);
  return all;
}

test('axe finds no serious or critical violation on any page', async ({ page }) => {
  await signIn(page, admin);
  const found: string[] = [];
  for (const [name, url] of await everyPage(page)) {
    await gotoHydrated(page, url);
    for (const v of await violations(page)) found.push(`${name} (${url}): ${v}`);
  }
  await signOut(page);
  await gotoHydrated(page, '/login');
  for (const v of await violations(page)) found.push(`login: ${v}`);
  expect(found).toEqual([]);
});

test('at a phone width every page fits, reflows its tables and folds its navigation into a menu', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, admin);
  const wide: string[] = [];
  for (const [name, url] of await everyPage(page)) {
    await gotoHydrated(page, url);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) wide.push(`${name} (${url}): ${width} px wide`);
    await expect(page.getByTestId(ids.nav)).toBeHidden();
    await screenshot(page, `80-phone-${name}`);
  }
  // a reflowed cell names its column
  await page.locator('#project-selector').selectOption({ label: 'web-frontend' });
  await gotoHydrated(page, '/pipelines');
  const cell = page.getByTestId(ids.pipelineList).locator('tbody tr').first().locator('td').nth(1);
  await expect(cell).toHaveAttribute('data-label', 'Status');
  expect(await cell.evaluate((el) => getComputedStyle(el, '::before').content)).toBe('"Status"');
  await screenshot(page, '80-phone-pipelines-labelled');
  await signOut(page);
  await gotoHydrated(page, '/login');
  const login = await page.evaluate(() => document.documentElement.scrollWidth);
  if (login > 390) wide.push(`login: ${login} px wide`);
  await screenshot(page, '80-phone-login');
  expect(wide).toEqual([]);
  // the menu opens the navigation, and a link in it closes it again
  await signIn(page, admin);
  await gotoHydrated(page, '/');
  await page.getByRole('button', { name: 'Menu' }).click();
  await expect(page.getByTestId(ids.nav)).toBeVisible();
  await screenshot(page, '80-phone-menu-open');
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Pipelines' }).click();
  await expect(page).toHaveURL(/\/pipelines$/);
  await expect(page.getByTestId(ids.nav)).toBeHidden();
});
