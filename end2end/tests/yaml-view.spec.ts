// Aria exports through the Import dialog, and the YAML view. Named to run after
// workflow.spec.ts, which expects no pipelines at its start.
import { test, expect } from '@playwright/test';
import { admin, ariaFixture, ids, screenshot, signIn, gotoHydrated } from './wharf';

test('an Aria export Wharf cannot run yet imports disabled, listing what needs attention', async ({ page }) => {
  await signIn(page, admin);
  await gotoHydrated(page, '/pipelines');
  await page.getByRole('button', { name: 'Import' }).click();
  const dialog = page.getByTestId(ids.importDialog);
  await dialog.getByLabel('Paste the exported YAML').fill(ariaFixture('unsupported-tasks'));
  await dialog.getByRole('button', { name: 'Import' }).click();
  await expect(dialog).toContainText('Build And Deploy was imported disabled');
  const attention = dialog.getByTestId(ids.pipelineAttention);
  await expect(attention.getByRole('listitem')).toHaveCount(6);
  await expect(attention).toContainText('Jenkins Build: Jenkins tasks are not supported by Wharf');
  await expect(attention).toContainText("no Kubernetes endpoint named 'prod-cluster'");
  await screenshot(page, '33-import-aria-attention');

  // its page says the same above the YAML view, whose gutter numbers every line
  await dialog.getByRole('link', { name: 'Open it' }).click();
  await expect(page.getByRole('heading', { name: 'Edit pipeline' })).toBeVisible();
  await expect(page.getByTestId(ids.pipelineAttention).first()).toContainText('SSH tasks are not supported by Wharf');
  // the designer shows the foreign tasks as cards; the YAML view is the second tab
  await expect(page.getByTestId(ids.designerBoard)).toContainText('Jenkins (not supported by Wharf)');
  await page.getByRole('tab', { name: 'YAML' }).click();
  const gutter = page.getByTestId(ids.yamlGutter);
  const yaml = page.getByTestId(ids.pipelineYaml);
  // imported disabled, its YAML says so too
  await expect(yaml).toHaveValue(/enabled: false/);
  const lines = (await yaml.inputValue()).split('\n').length;
  await expect(gutter.locator('.ln')).toHaveCount(lines);

  // a problem is marked at its line, with its message
  await yaml.fill(ariaFixture('unsupported-tasks').replace('action: APPLY', 'action: LAUNCH'));
  const marked = gutter.locator('.ln.problem');
  await expect(marked).toHaveCount(1);
  await expect(marked).toHaveAttribute('title', /input\.action: must be one of GET, CREATE, APPLY, DELETE, ROLLBACK/);
  const line = ariaFixture('unsupported-tasks').split('\n').findIndex((l) => l.includes('action: APPLY')) + 1;
  await expect(marked).toContainText(String(line));
  await screenshot(page, '34-yaml-view-problem-marker');

  // the list marks it, and it cannot be enabled
  await gotoHydrated(page, '/pipelines');
  const row = page.getByTestId(ids.pipelineList).getByRole('row', { name: /Build And Deploy/ });
  await expect(row).toContainText('Needs attention (6)');
  await expect(row.getByRole('button', { name: 'Enable' })).toBeDisabled();
});

test("an Aria export's input descriptions and mandatory inputs reach the Run dialog", async ({ page }) => {
  await signIn(page, admin);
  await gotoHydrated(page, '/pipelines');
  await page.getByRole('button', { name: 'Import' }).click();
  const dialog = page.getByTestId(ids.importDialog);
  await dialog.getByLabel('Paste the exported YAML').fill(ariaFixture('rest-poll-condition'));
  await dialog.getByRole('button', { name: 'Import' }).click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId(ids.pipelineList).getByRole('row', { name: /Release API/ });
  await expect(row).toContainText('Enabled');
  await row.getByRole('button', { name: 'Run' }).click();
  const run = page.getByTestId(ids.runDialog);
  const version = run.getByLabel(/VERSION/);
  await expect(version).toHaveAttribute('required', '');
  await expect(run).toContainText('(required)');
  await expect(run).toContainText('The version to release');
  await expect(version).toHaveAccessibleDescription('The version to release');
  await screenshot(page, '35-run-dialog-input-meta');
  await run.getByRole('button', { name: 'Cancel' }).click();
});
