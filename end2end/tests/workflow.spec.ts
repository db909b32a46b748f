// The pipeline workflow end to end: write a pipeline in the YAML editor (fixing the problem it
// points at), inject the Docker inputs, run it from the Run dialog, approve its User Operation,
// and see the execution complete. Named to run after shell.spec.ts, which expects no pipelines.
import { test, expect } from '@playwright/test';
import { admin, ids, screenshot, signIn, gotoHydrated, pipelineFixture } from './wharf';

test.describe.configure({ mode: 'serial' });

const pipeline = (taskType: string) => pipelineFixture('e2e-release-web', { APPROVER: admin.email, TASK_TYPE: taskType });

test('create a pipeline from YAML, fix its problem, inject Docker inputs, run it and approve it', async ({ page }) => {
  await signIn(page, admin);
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Pipelines' }).click();
  await expect(page.getByRole('heading', { name: 'Pipelines', exact: true })).toBeVisible();
  await expect(page.getByTestId(ids.emptyState)).toContainText('No pipelines yet');

  await page.getByTestId(ids.newPipeline).click();
  await expect(page.getByRole('heading', { name: 'New pipeline' })).toBeVisible();
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
  // the designer is the default view; this test writes YAML
  await page.getByRole('tab', { name: 'YAML' }).click();
  const yaml = page.getByTestId(ids.pipelineYaml);
  await expect(yaml).toHaveValue(/kind: PIPELINE/);
  await expect(page.getByTestId(ids.pipelineValid)).toBeVisible();

  // a typo: the editor names the line and the field, and Save waits
  await yaml.fill(pipeline('Conditon'));
  const problems = page.getByTestId(ids.pipelineProblems);
  await expect(problems).toContainText("line 12, stages.Check.tasks.Tag.type: unknown task type 'Conditon'");
  await expect(page.getByTestId(ids.savePipeline)).toBeDisabled();
  await screenshot(page, '30-pipeline-editor-problem');

  await yaml.fill(pipeline('Condition'));
  await expect(page.getByTestId(ids.pipelineValid)).toBeVisible();
  const diagram = page.getByTestId(ids.pipelineDiagram);
  await expect(diagram.getByRole('heading', { name: 'Check' })).toBeVisible();
  await expect(diagram).toContainText('Ship');
  await expect(diagram).toContainText('UserOperation');

  // Input tab: Inject parameters: Docker
  await page.getByRole('tab', { name: 'Input' }).click();
  await page.getByTestId(ids.injectDocker).click();
  const inputs = page.getByTestId(ids.pipelineInputs);
  for (const name of ['TAG', 'DOCKER_EVENT_OWNER_NAME', 'DOCKER_IMAGE', 'DOCKER_REPO_NAME', 'DOCKER_REPO_NAMESPACE', 'DOCKER_TAG', 'DOCKER_DIGEST']) {
    await expect(inputs).toContainText(name);
  }
  await expect(page.getByText('Docker parameters are injected')).toBeVisible();
  await screenshot(page, '31-pipeline-input-docker');
  await page.getByRole('tab', { name: 'YAML' }).click();
  await expect(yaml).toHaveValue(/DOCKER_DIGEST/);
  await page.getByTestId(ids.savePipeline).click();

  // the list: enabled, never run, two stages, Docker inputs
  await expect(page).toHaveURL(/\/pipelines$/);
  const row = page.getByTestId(ids.pipelineList).getByRole('row', { name: /release-web/ });
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText('Never run');
  await expect(row).toContainText('Docker inputs');
  await screenshot(page, '32-pipelines-list');

  // Run: the dialog offers the inputs with their defaults
  await row.getByRole('button', { name: 'Run' }).click();
  const dialog = page.getByTestId(ids.runDialog);
  await expect(dialog.getByRole('heading', { name: 'Run release-web' })).toBeVisible();
  await expect(dialog.getByLabel('TAG', { exact: true })).toHaveValue('v1');
  await dialog.getByLabel('TAG', { exact: true }).fill('v2.1');
  await dialog.getByLabel('Comments').fill('first release');
  await screenshot(page, '33-run-dialog');
  await dialog.getByRole('button', { name: 'Run' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId(ids.runResult)).toContainText('Execution #1 of release-web is queued.');

  // it waits for approval: the User Operations page lists it for the approver
  await page.getByTestId(ids.nav).getByRole('link', { name: 'User Operations' }).click();
  // the router changes the address once the page is ready: a reload before that would reload
  // the Pipelines page
  await expect(page).toHaveURL(/\/user-operations$/);
  const op = page.getByTestId(ids.userOperationList).getByRole('listitem').filter({ hasText: 'Ship v2.1 to production?' });
  await expect(async () => {
    await page.reload();
    await expect(op).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
  await expect(op).toContainText('release-web #1 › Approve › Ship');
  await expect(op).toContainText('Execution 1 of release-web');
  await screenshot(page, '34-user-operation');
  await op.getByLabel('Comment').fill('looks good');
  await op.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status')).toContainText('release-web #1 › Approve.Ship: approved');
  await expect(page.getByTestId(ids.emptyState)).toContainText('Nothing waits for you');

  // the execution completes
  await gotoHydrated(page, '/pipelines');
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId(ids.pipelineList).getByRole('row', { name: /release-web/ })).toContainText('COMPLETED', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  // the dialog needs the hydrated page (the reloads above may have just happened)
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);

  // Export gives the YAML back
  await page.getByTestId(ids.pipelineList).getByRole('row', { name: /release-web/ }).getByRole('button', { name: 'Export' }).click();
  const exported = page.getByTestId(ids.exportDialog);
  await expect(exported.getByLabel(/YAML/)).toHaveValue(/name: "release-web"/);
  await expect(exported.getByRole('link', { name: 'Download' })).toHaveAttribute('download', 'release-web.yaml');
  await page.keyboard.press('Escape');
  await expect(exported).toHaveCount(0);
});
