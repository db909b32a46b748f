import { test, expect } from '@playwright/test';
import { admin, ids, gotoHydrated, screenshot, signIn, signOut } from './wharf';

test('a wrong password is refused with a clear message, the right one signs in, and sign-out ends it', async ({ page }) => {
  await gotoHydrated(page, '/login');
  await screenshot(page, '04-sign-in');
  const form = page.getByTestId(ids.signInForm);
  await form.getByLabel('E-mail address').fill(admin.email);
  await form.getByLabel('Password').fill('not the password');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId(ids.formError)).toHaveText('Wrong e-mail address or password.');
  await screenshot(page, '05-sign-in-error');

  await signIn(page, admin);
  await expect(page).toHaveURL(/\/$/);
  await signOut(page);
  // signed out for real: a page now sends us back to sign in
  await page.goto('/projects');
  await expect(page).toHaveURL(/\/login\?next=\/projects$/);
});

test('after signing in, Wharf returns to the page that asked for it', async ({ page }) => {
  await gotoHydrated(page, '/users');
  await expect(page).toHaveURL(/\/login\?next=\/users$/);
  const form = page.getByTestId(ids.signInForm);
  await form.getByLabel('E-mail address').fill(admin.email);
  await form.getByLabel('Password').fill(admin.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByRole('heading', { name: 'Users', exact: true })).toBeVisible();
});

test('the user menu works only once the wasm has hydrated the page', async ({ browser }) => {
  // control: with the wasm blocked, the server-rendered button does nothing
  const blocked = await browser.newContext();
  const page = await blocked.newPage();
  await signInThenBlockWasm(page);
  await page.getByTestId(ids.userMenuButton).click();
  await expect(page.getByTestId(ids.userMenu)).toBeHidden();
  await blocked.close();

  const context = await browser.newContext();
  const live = await context.newPage();
  await signIn(live, admin);
  await live.getByTestId(ids.userMenuButton).click();
  await expect(live.getByTestId(ids.userMenu)).toBeVisible();
  await expect(live.getByTestId(ids.userMenu)).toContainText(admin.email);
  await screenshot(live, '06-user-menu');
  // keyboard: Escape closes it
  await live.keyboard.press('Escape');
  await expect(live.getByTestId(ids.userMenu)).toBeHidden();
  await context.close();
});

async function signInThenBlockWasm(page: import('@playwright/test').Page) {
  await signIn(page, admin);
  await page.route(/\.wasm$/, (route) => route.abort());
  await page.reload();
  await expect(page.getByTestId(ids.userMenuButton)).toBeVisible();
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(0);
}
