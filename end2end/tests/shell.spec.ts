import { test, expect } from '@playwright/test';
import { admin, ids, screenshot, signIn } from './wharf';

const pages = [
  { link: 'Executions', heading: 'Executions', empty: 'No executions yet', shot: '11-executions' },
  { link: 'User Operations', heading: 'User Operations', empty: 'Nothing waits for you', shot: '12-user-operations' },
  { link: 'Pipelines', heading: 'Pipelines', empty: 'No pipelines yet', shot: '13-pipelines' },
  { link: 'Docker', heading: 'Docker', empty: 'No Docker events yet', shot: '14-triggers-docker' },
];

test('every navigation entry opens its page, and the ones to come say so honestly', async ({ page }) => {
  await signIn(page, admin);
  const nav = page.getByTestId(ids.nav);
  for (const p of pages) {
    await nav.getByRole('link', { name: p.link, exact: true }).click();
    await expect(page.getByRole('heading', { name: p.heading, exact: true })).toBeVisible();
    await expect(page.getByTestId(ids.emptyState)).toContainText(p.empty);
    await expect(nav.getByRole('link', { name: p.link, exact: true })).toHaveClass(/active/);
    await screenshot(page, p.shot);
  }
});

test('Home shows the selected project\'s dashboard, empty while nothing has run', async ({ page }) => {
  await signIn(page, admin);
  const nav = page.getByTestId(ids.nav);
  await nav.getByRole('link', { name: 'Pipelines', exact: true }).click();
  await nav.getByRole('link', { name: 'Home', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Home', exact: true })).toHaveClass(/active/);
  await expect(page.getByTestId(ids.homeCounts).locator('.count-number').first()).toHaveText('0');
  await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
  await expect(page.getByTestId(ids.homeActivity)).toContainText('No Docker events yet');
  await screenshot(page, '10-home-empty');
});

test('the navigation works from the keyboard', async ({ page }) => {
  await signIn(page, admin);
  const projects = page.getByTestId(ids.nav).getByRole('link', { name: 'Projects' });
  await projects.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/projects$/);
  await page.getByTestId(ids.userMenuButton).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId(ids.userMenu)).toBeVisible();
});

test('an unknown address shows a 404 page', async ({ page }) => {
  await signIn(page, admin);
  const res = await page.goto('/no/such/page');
  expect(res?.status()).toBe(404);
  await expect(page.getByTestId(ids.notFound)).toBeVisible();
  await screenshot(page, '17-not-found');
});

test('a page brings only its own code: the pipeline editor\'s arrives when it is opened, and it works', async ({ page }) => {
  const wasm: string[] = [];
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.endsWith('.wasm')) wasm.push(p);
  });
  await signIn(page, admin);
  const loaded = new Set(wasm);
  // the sign-in and Home pages came without the editor: opening it in place fetches its chunks
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Pipelines', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Pipelines', exact: true })).toBeVisible();
  await page.getByTestId(ids.newPipeline).click();
  await expect(page.getByRole('heading', { name: 'New pipeline' })).toBeVisible();
  expect(wasm.filter((w) => !loaded.has(w)).length, `wasm fetched: ${wasm.join(', ')}`).toBeGreaterThan(0);
  // and the code that arrived drives the page: the designer adds a stage
  const board = page.getByTestId(ids.designerBoard);
  const stages = await board.locator('.stage-column').count();
  await board.getByRole('button', { name: '+ Add stage' }).click();
  await expect(board.locator('.stage-column')).toHaveCount(stages + 1);
});
