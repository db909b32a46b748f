import { test, expect } from '@playwright/test';
import { admin, ids, screenshot, signIn } from './wharf';

test('generate a token, copy it, keep it as a secret variable, then revoke it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, admin);
  await page.getByTestId(ids.userMenuButton).click();
  await page.getByTestId(ids.generateToken).click();
  const dialog = page.getByTestId(ids.tokenDialog);
  await expect(dialog.getByRole('heading', { name: 'Generate Token' })).toBeVisible();

  // the dialog confirms who you are
  await dialog.getByLabel('Token name').fill('docker webhook');
  await dialog.getByLabel('E-mail address').fill('someone-else@example.com');
  await dialog.getByLabel('Password').fill(admin.password);
  await dialog.getByRole('button', { name: 'Generate' }).click();
  await expect(dialog.getByText('Enter the e-mail address you are signed in with.')).toBeVisible();
  await dialog.getByLabel('E-mail address').fill(admin.email);
  await dialog.getByRole('button', { name: 'Generate' }).click();

  const tokenInput = dialog.getByTestId(ids.tokenValue);
  await expect(tokenInput).toHaveValue(/^wharf_rt_[A-Za-z0-9_-]{43}$/);
  const token = await tokenInput.inputValue();
  await dialog.getByRole('button', { name: 'Copy' }).click();
  await expect(dialog.getByText('Copied to the clipboard.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await screenshot(page, '20-generate-token');

  const save = dialog.getByTestId(ids.tokenVariableForm);
  await save.getByLabel('Project').selectOption({ label: 'web-frontend' });
  await save.getByLabel('Variable name').fill('WEBHOOK_TOKEN');
  await save.getByRole('button', { name: 'Create Variable' }).click();
  await expect(dialog.getByText('Saved as a SECRET variable.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);

  // the variable exists, hidden; the token is nowhere on the page any more
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Variables' }).click();
  const row = page.getByTestId(ids.variableList).getByRole('row', { name: /WEBHOOK_TOKEN/ });
  await expect(row).toContainText('SECRET');
  await expect(row).toContainText('hidden');
  expect(await page.content()).not.toContain(token);

  // My tokens lists it without the token; revoking takes effect at once
  await page.getByTestId(ids.userMenuButton).click();
  await page.getByRole('link', { name: 'My tokens' }).click();
  const list = page.getByTestId(ids.tokenList);
  const tokenRow = list.getByRole('row', { name: /docker webhook/ });
  await expect(tokenRow).toContainText('Active');
  await expect(tokenRow).toContainText('never');
  expect(await page.content()).not.toContain(token);
  await screenshot(page, '21-my-tokens');
  await tokenRow.getByRole('button', { name: 'Revoke docker webhook' }).click();
  await expect(tokenRow).toContainText('Revoked');
});
