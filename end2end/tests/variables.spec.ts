import { test, expect } from '@playwright/test';
import { admin, viewer, ids, screenshot, signIn } from './wharf';

test.describe.configure({ mode: 'serial' });

const secret = 'hunter2-never-shown';

test('regular and secret variables are created; the secret is never shown again', async ({ page }) => {
  await signIn(page, admin);
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Variables' }).click();
  await expect(page.getByText('Project: web-frontend')).toBeVisible();
  const form = page.getByTestId(ids.newVariableForm);

  // a name pipelines could not reference is refused beside the field
  await form.getByLabel('Name').fill('1-bad');
  await form.getByLabel('Value').fill('x');
  await form.getByRole('button', { name: 'Create variable' }).click();
  await expect(page.getByText("Use letters, digits and '_'", { exact: false })).toBeVisible();

  await form.getByLabel('Name').fill('DEPLOY_ENV');
  await form.getByLabel('Value').fill('staging');
  await form.getByLabel('Description').fill('where the pipeline deploys');
  await form.getByRole('button', { name: 'Create variable' }).click();
  const list = page.getByTestId(ids.variableList);
  await expect(list).toContainText('staging');

  await form.getByLabel('Name').fill('REGISTRY_PASSWORD');
  await form.getByLabel('Type').selectOption('SECRET');
  await expect(form.getByLabel('Value')).toHaveAttribute('type', 'password');
  await form.getByLabel('Value').fill(secret);
  await form.getByRole('button', { name: 'Create variable' }).click();
  await expect(list).toContainText('REGISTRY_PASSWORD');
  await expect(list.getByRole('row', { name: /REGISTRY_PASSWORD/ })).toContainText('hidden');
  // the form is cleared after saving, so the secret is nowhere on the page
  expect(await page.content()).not.toContain(secret);
  await screenshot(page, '18-variables');

  // after a reload too: the server never renders it
  await page.reload();
  await expect(list).toContainText('REGISTRY_PASSWORD');
  expect(await page.content()).not.toContain(secret);
  // the server's page is shown before the browser's code runs: Edit works once it has
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);

  // editing without a new value keeps the secret and changes the description
  await list.getByRole('row', { name: /REGISTRY_PASSWORD/ }).getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Description').last().fill('pull secret for the registry');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(list).toContainText('pull secret for the registry');
});

test('a viewer sees the variables but no secret value and no controls', async ({ page }) => {
  await signIn(page, viewer);
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Variables' }).click();
  const list = page.getByTestId(ids.variableList);
  await expect(list).toContainText('DEPLOY_ENV');
  await expect(page.getByTestId(ids.readOnlyNotice)).toBeVisible();
  await expect(page.getByTestId(ids.newVariableForm)).toHaveCount(0);
  await expect(list.getByRole('button')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await screenshot(page, '19-variables-viewer');
});
