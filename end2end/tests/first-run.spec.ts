import { test, expect } from '@playwright/test';
import { admin, ids, gotoHydrated, screenshot } from './wharf';

test('the first visitor creates the administrator and lands in the signed-in shell', async ({ page }) => {
  await gotoHydrated(page, '/');
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole('heading', { name: 'Create the administrator' })).toBeVisible();
  await screenshot(page, '01-setup');

  const form = page.getByTestId(ids.setupForm);
  await form.getByLabel('E-mail address').fill(admin.email);
  await form.getByLabel('Your name').fill(admin.name);
  await form.getByLabel('Password', { exact: true }).fill(admin.password);
  await form.getByLabel('Password again').fill('something else entirely');
  await form.getByRole('button', { name: 'Create administrator' }).click();
  // the error shows beside the field, without a reload: only the hydrated page can do this
  await expect(page.getByText('The two passwords differ.')).toBeVisible();
  await expect(page).toHaveURL(/\/setup$/);
  await screenshot(page, '02-setup-error');

  await form.getByLabel('Password again').fill(admin.password);
  await form.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByTestId(ids.userMenuButton)).toContainText(admin.name);
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
  await expect(page.getByTestId(ids.emptyState)).toContainText('No project selected');
  await screenshot(page, '03-home-no-project');

  // the set-up page is gone for good
  await page.goto('/setup');
  await expect(page).not.toHaveURL(/\/setup$/);
});
