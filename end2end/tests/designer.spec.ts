// The seeds' pipeline built in the visual designer alone, by keyboard where a person would:
// a stage, a Kubernetes task on the project's cluster with the Create action, its YAML
// uploaded from disk, ${input.DOCKER_IMAGE} bound from the picker; saved, run, and deployed
// to the Kubernetes stand-in. In its own project, and in the 'live' set after the pages the
// 'app' set checks, so those stay as they expect.
import { test, expect, type APIRequestContext } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { admin, ids, screenshot, signIn, gotoHydrated, standins } from './wharf';

const ctx: { token?: string; project?: number } = {};

async function api(request: APIRequestContext, method: string, url: string, data?: unknown) {
  const res = await request.fetch(`/pipelines/api${url}`, { method, data, headers: { authorization: `Bearer ${ctx.token}` } });
  expect(res.ok(), `${method} ${url}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res.json();
}

// whatever happens, the project the other files expect is selected again at the end
test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signIn(page, admin);
  await page.locator('#project-selector').selectOption({ label: 'web-frontend' });
  await expect(page.locator('#project-selector')).toHaveValue(/.+/);
  await page.close();
});

test.beforeAll(async ({ request }) => {
  const t = await (await request.post('/pipelines/api/tokens', { data: { email: admin.email, password: admin.password, name: 'e2e designer' } })).json();
  ctx.token = (await (await request.post('/pipelines/api/login', { data: { refreshToken: t.refreshToken } })).json()).token;
  ctx.project = (await api(request, 'POST', '/projects', { name: 'designer-demo', description: 'Built in the designer' })).id;
  await api(request, 'POST', `/projects/${ctx.project}/endpoints`, {
    name: 'dev-cluster', kind: 'kubernetes', url: standins().kube, authMethod: 'bearer_token', password: 'e2e-cluster-token', namespace: 'web',
  });
});

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: seed-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: seed-web}
  template:
    metadata:
      labels: {app: seed-web}
    spec:
      containers:
        - name: web
          image: IMAGE
`;

test('the seed pipeline, built in the designer alone, deploys the pushed image to Kubernetes', async ({ page, request }) => {
  await signIn(page, admin);
  await page.locator('#project-selector').selectOption({ label: 'designer-demo' });
  await gotoHydrated(page, '/pipelines/new');
  const board = page.getByTestId(ids.designerBoard);
  const panel = page.getByTestId(ids.designerPanel);
  await expect(board).toBeVisible();

  // the pipeline's own settings, then the starter stage goes, by keyboard
  await panel.getByLabel('Name', { exact: true }).fill('seed-deploy');
  await board.getByRole('button', { name: 'Delete stage Check' }).focus();
  await page.keyboard.press('Enter');
  await expect(board.locator('.stage-column')).toHaveCount(0);
  await expect(board.getByRole('button', { name: '+ Add stage' })).toBeFocused();
  await page.keyboard.press('Enter');
  const stage = board.getByRole('region', { name: 'Stage Stage 1' });
  await expect(stage).toBeVisible();

  // rename the stage, then Add task → Kubernetes, all from the keyboard
  await stage.getByRole('button', { name: 'Rename stage Stage 1' }).focus();
  await page.keyboard.press('Enter');
  await stage.getByLabel('Stage name').fill('Development');
  await page.keyboard.press('Enter');
  const dev = board.getByRole('region', { name: 'Stage Development' });
  await expect(dev).toBeVisible();
  await dev.getByRole('button', { name: '+ Add task' }).focus();
  await page.keyboard.press('Enter');
  const picker = dev.getByTestId(ids.addTaskForm).getByRole('combobox');
  await expect(picker).toBeFocused();
  await picker.selectOption({ label: 'Kubernetes' });
  await page.keyboard.press('Tab');
  await expect(dev.getByTestId(ids.addTaskForm).getByRole('button', { name: 'Add' })).toBeFocused();
  await page.keyboard.press('Enter');
  const card = dev.locator('.task-card', { hasText: 'Kubernetes 1' });
  await expect(card).toBeVisible();
  await expect(card.getByRole('button', { name: /^Kubernetes 1/ })).toBeFocused();
  await expect(card).toContainText('problem', { ignoreCase: true });

  // its form: the cluster from the project's endpoints, the Create action
  const form = panel.getByTestId(ids.taskForm);
  await form.getByLabel('Kubernetes cluster').selectOption('dev-cluster');
  await form.getByLabel('Action').selectOption('CREATE');

  // Inject parameters: Docker (the Input tab), then back to the designer
  await page.getByRole('tab', { name: 'Input' }).click();
  await page.getByTestId(ids.injectDocker).click();
  await page.getByRole('tab', { name: 'Designer' }).click();
  await dev.locator('.task-card', { hasText: 'Kubernetes 1' }).getByRole('button', { name: /^Kubernetes 1/ }).click();

  // the YAML comes from a file on disk
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-e2e-')), 'deployment.yaml');
  fs.writeFileSync(file, DEPLOYMENT);
  await panel.getByLabel('Upload a YAML file').setInputFiles(file);
  await expect(panel).toContainText('Read deployment.yaml into the local definition.');
  const local = panel.getByLabel('Local definition (YAML)', { exact: true });
  await expect(local).toHaveValue(/image: IMAGE/);

  // ${input.DOCKER_IMAGE} from the binding picker, in place of the selected placeholder
  await local.evaluate((el: HTMLTextAreaElement) => {
    const at = el.value.indexOf('IMAGE');
    el.focus();
    el.setSelectionRange(at, at + 'IMAGE'.length);
  });
  await panel.getByRole('button', { name: 'Insert a binding into Local definition (YAML)' }).click();
  const bindings = panel.getByTestId(ids.bindingList);
  await expect(bindings).toContainText('${input.DOCKER_TAG}');
  await bindings.getByRole('button', { name: '${input.DOCKER_IMAGE}' }).click();
  await expect(local).toHaveValue(/image: \$\{input\.DOCKER_IMAGE\}\n/);
  await expect(card).not.toContainText('problem');
  await expect(page.getByTestId(ids.pipelineValid)).toBeVisible();
  await screenshot(page, '36-designer-kubernetes-task');

  // both views are one model: the YAML view shows what the designer built
  await page.getByRole('tab', { name: 'YAML' }).click();
  await expect(page.getByTestId(ids.pipelineYaml)).toHaveValue(/kubernetesServer|endpoint: "dev-cluster"/);
  await page.getByRole('tab', { name: 'Designer' }).click();
  await expect(board.locator('.task-card')).toHaveCount(1);

  // save, run with an image, and the stand-in runs it
  await page.getByTestId(ids.savePipeline).click();
  await expect(page).toHaveURL(/\/pipelines$/);
  const row = page.getByTestId(ids.pipelineList).getByRole('row', { name: /seed-deploy/ });
  await expect(row).toContainText('Enabled');
  await row.getByRole('button', { name: 'Run' }).click();
  const dialog = page.getByTestId(ids.runDialog);
  await dialog.getByLabel('DOCKER_IMAGE', { exact: true }).fill('registry.example/seed/web:7');
  await dialog.getByRole('button', { name: 'Run' }).click();
  await expect(async () => {
    await gotoHydrated(page, '/pipelines');
    await expect(page.getByTestId(ids.pipelineList).getByRole('row', { name: /seed-deploy/ })).toContainText('COMPLETED', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  const d = await (await request.get(`${standins().kube}/apis/apps/v1/namespaces/web/deployments/seed-web`, {
    headers: { authorization: 'Bearer e2e-cluster-token' },
  })).json();
  expect(d.spec.template.spec.containers[0].image).toBe('registry.example/seed/web:7');

  // the designer by keyboard: moving a task keeps the focus on the button that moved it
  await gotoHydrated(page, '/pipelines');
  await page.getByTestId(ids.pipelineList).getByRole('link', { name: 'seed-deploy' }).click();
  const saved = page.getByTestId(ids.designerBoard).getByRole('region', { name: 'Stage Development' });
  await saved.getByRole('button', { name: 'Add a task beside Kubernetes 1' }).click();
  await saved.getByTestId(ids.addTaskForm).getByRole('combobox').selectOption({ label: 'Condition' });
  await saved.getByTestId(ids.addTaskForm).getByRole('button', { name: 'Add' }).click();
  await expect(saved.locator('.card-group.parallel')).toHaveCount(1);
  await saved.getByRole('button', { name: 'Move Condition 1 later' }).focus();
  await page.keyboard.press('Enter');
  await expect(saved.locator('.card-group.parallel')).toHaveCount(0);
  await expect(saved.getByRole('button', { name: 'Move Condition 1 later' })).toBeFocused();
  await screenshot(page, '37-designer-board');
});
