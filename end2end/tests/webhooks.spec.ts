// The seeds' procedure end to end, with real parts: a Docker Registry endpoint for Debian's
// docker-registry on loopback, a pipeline with Docker inputs whose Kubernetes task deploys
// ${input.DOCKER_IMAGE}, a webhook card made in the New Webhook for Docker form with a generated
// token, the registry's notifications pointed at the card's listener URL, skopeo pushing
// acme/web:1.0, Activity showing it, and the Kubernetes stand-in's Deployment running the image.
// Then: a disabled card, a tag filter, the documented Docker Hub payload, and Docker Hub sync.
// Works in its own project (webhooks-demo) so the other files' projects stay as they expect.
import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { admin, ids, screenshot, signIn, standins, pipelineFixture } from './wharf';
import { freeLoopbackPort, pushImage, startNotifyingRegistry, type PlainRegistry } from './registry';

test.describe.configure({ mode: 'serial' });

const HUB_EXAMPLE = fs.readFileSync(path.join(__dirname, '..', '..', 'testkit', 'fixtures', 'docker_hub_example.json'));

const PIPELINE = pipelineFixture('e2e-deploy-web');

interface Ctx {
  token: string;
  refresh: string;
  project: number;
  port: number;
  registry?: PlainRegistry;
}
const ctx: Ctx = { token: '', refresh: '', project: 0, port: 0 };

async function api(request: APIRequestContext, method: string, url: string, data?: unknown) {
  const res = await request.fetch(`/pipelines/api${url}`, {
    method,
    headers: { authorization: `Bearer ${ctx.token}` },
    data,
  });
  expect(res.status(), `${method} ${url}: ${await res.text()}`).toBeLessThan(300);
  return res.status() === 204 ? null : res.json();
}

async function openDocker(page: Page) {
  await signIn(page, admin);
  await page.locator('#project-selector').selectOption({ label: 'webhooks-demo' });
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Docker' }).click();
  await expect(page.getByRole('heading', { name: 'Docker', exact: true })).toBeVisible();
}

function activityRow(page: Page, text: string) {
  return page.getByTestId(ids.activityList).locator('tbody tr').filter({ hasText: text }).first();
}

test.afterAll(() => ctx.registry?.stop());

test('set up over the REST API: project, endpoints and a pipeline with Docker inputs', async ({ request }) => {
  const t = await (await request.post('/pipelines/api/tokens', { data: { email: admin.email, password: admin.password, name: 'e2e webhooks' } })).json();
  ctx.refresh = t.refreshToken;
  ctx.token = (await (await request.post('/pipelines/api/login', { data: { refreshToken: ctx.refresh } })).json()).token;
  ctx.project = (await api(request, 'POST', '/projects', { name: 'webhooks-demo', description: 'Docker triggers' })).id;
  ctx.port = await freeLoopbackPort();
  await api(request, 'POST', `/projects/${ctx.project}/endpoints`, { name: 'local-registry', serverType: 'docker_registry', url: `http://127.0.0.1:${ctx.port}` });
  await api(request, 'POST', `/projects/${ctx.project}/endpoints`, {
    name: 'cluster', kind: 'kubernetes', url: standins().kube, authMethod: 'bearer_token', password: 'e2e-cluster-token', namespace: 'web',
  });
  await api(request, 'POST', `/projects/${ctx.project}/pipelines`, { yaml: PIPELINE });
});

test('a push to a real registry triggers the pipeline, which deploys the image', async ({ page, request }) => {
  await openDocker(page);
  await expect(page.getByTestId(ids.emptyState)).toContainText('No Docker events yet');
  await page.getByRole('tab', { name: 'Webhooks for Docker' }).click();
  await expect(page.getByTestId(ids.emptyState)).toContainText('No Docker webhooks yet');
  await screenshot(page, '40-docker-webhooks-empty');

  // New Webhook for Docker, with a token generated in place
  await page.getByTestId(ids.newWebhook).click();
  const editor = page.getByTestId(ids.webhookEditor);
  await editor.getByLabel('Name', { exact: true }).fill('deploy-web');
  await editor.getByLabel('Description').fill('Deploys acme/web to the web namespace');
  await expect(editor.getByLabel('Docker Registry endpoint')).toContainText('local-registry');
  await expect(editor.getByLabel('Pipeline', { exact: true })).toContainText('deploy-web');
  await expect(editor.getByText('From the pushed image').first()).toBeVisible();
  await editor.getByLabel('REPLICAS').fill('3');
  await editor.getByRole('button', { name: 'Generate Token' }).click();
  const dialog = page.getByTestId(ids.tokenDialog);
  await dialog.getByLabel('Token name').fill('deploy-web webhook');
  await dialog.getByLabel('E-mail address').fill(admin.email);
  await dialog.getByLabel('Password').fill(admin.password);
  await dialog.getByRole('button', { name: 'Generate' }).click();
  const token = await dialog.getByTestId(ids.tokenValue).inputValue();
  expect(token).toMatch(/^wharf_rt_/);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await editor.getByLabel('API token').fill(token);
  await editor.getByLabel('Image').fill('acme/web');
  await screenshot(page, '41-new-webhook-form');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor).toHaveCount(0);

  const card = page.getByTestId(ids.webhookList).locator('[data-webhook="deploy-web"]');
  await expect(card).toContainText('Enabled');
  await expect(card).toContainText('local-registry');
  await expect(card).toContainText('acme/web');
  await expect(card).toContainText('No event received yet');
  await expect(card).toContainText('/pipelines/api/registry-webhooks?secureToken=********');
  await card.getByRole('button', { name: 'Copy the listener URL' }).click();
  const url = await card.getByTestId(ids.listenerUrl).inputValue();
  expect(url).toMatch(/\/pipelines\/api\/registry-webhooks\?secureToken=wharf_wh_[A-Za-z0-9_-]{43}$/);
  await screenshot(page, '42-webhook-card');

  // the registry posts its notifications to the card's listener URL; skopeo pushes
  ctx.registry = await startNotifyingRegistry(ctx.port, url);
  pushImage(ctx.port, 'acme/web', '1.0');
  await page.getByRole('tab', { name: 'Activity' }).click();
  const row = activityRow(page, ':1.0');
  await expect(row).toContainText(`127.0.0.1:${ctx.port}/acme/web:1.0`);
  await expect(row).toContainText('Triggered');
  await expect(row).toContainText('#1');
  await expect(row).toContainText('COMPLETED', { timeout: 20_000 });
  await screenshot(page, '43-docker-activity');

  // the Kubernetes stand-in's Deployment runs the pushed image
  const d = await (await request.get(`${standins().kube}/apis/apps/v1/namespaces/web/deployments/web`, {
    headers: { authorization: 'Bearer e2e-cluster-token' },
  })).json();
  expect(d.spec.template.spec.containers[0].image).toBe(`127.0.0.1:${ctx.port}/acme/web:1.0`);
  expect(d.spec.replicas).toBe(3);

  // the raw payload, escaped and pretty-printed, with Resubmit
  await row.click();
  const detail = page.getByTestId(ids.activityDetail);
  await expect(detail.getByTestId(ids.activityPayload)).toContainText('"repository": "acme/web"');
  await expect(detail).toContainText('Docker Registry (distribution)');
  await screenshot(page, '44-docker-event-payload');
  await detail.getByRole('button', { name: 'Close' }).click();
});

test('a disabled card records the push and runs nothing; a tag filter picks v2 over latest', async ({ page }) => {
  await openDocker(page);
  await page.getByRole('tab', { name: 'Webhooks for Docker' }).click();
  const card = page.getByTestId(ids.webhookList).locator('[data-webhook="deploy-web"]');
  await expect(card).toContainText('1 event, 1 execution started');
  await card.getByRole('button', { name: 'Disable' }).click();
  await expect(card).toContainText('Disabled');
  pushImage(ctx.port, 'acme/web', '1.1');
  await page.getByRole('tab', { name: 'Activity' }).click();
  await expect(activityRow(page, ':1.1')).toContainText('Webhook disabled');
  await expect(activityRow(page, ':1.1')).not.toContainText('#');

  await page.getByRole('tab', { name: 'Webhooks for Docker' }).click();
  await card.getByRole('button', { name: 'Enable' }).click();
  await expect(card).toContainText('Enabled');
  await card.getByRole('button', { name: 'Open / Edit' }).click();
  const editor = page.getByTestId(ids.webhookEditor);
  await editor.getByLabel('Tag').fill('v*');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor).toHaveCount(0);
  await expect(card).toContainText('v*');

  pushImage(ctx.port, 'acme/web', 'latest');
  pushImage(ctx.port, 'acme/web', 'v2');
  await page.getByRole('tab', { name: 'Activity' }).click();
  await expect(activityRow(page, ':latest')).toContainText('Tag latest does not match v*.');
  await expect(activityRow(page, ':v2')).toContainText('Triggered');
  await expect(activityRow(page, ':v2')).toContainText('#2');
  await page.getByLabel('Status').selectOption({ label: 'Not matched' });
  await expect(page.getByTestId(ids.activityList).locator('tbody tr')).toHaveCount(1);
  await screenshot(page, '45-docker-activity-filtered');
});

test('the documented Docker Hub payload, sent as raw bytes, is accepted and triggers', async ({ page, request }) => {
  const card = await api(request, 'POST', `/projects/${ctx.project}/docker-webhooks`, {
    name: 'testhook', endpointId: (await api(request, 'GET', `/projects/${ctx.project}/endpoints`)).items.find((e: { name: string }) => e.name === 'local-registry').id,
    pipelineId: (await api(request, 'GET', `/projects/${ctx.project}/pipelines`)).items[0].id,
    apiToken: ctx.refresh, image: 'svendowideit/testhook', tag: '',
  });
  const url = (await api(request, 'GET', `/docker-webhooks/${card.id}/listener-url`)).url.replace('registry-webhooks', 'docker-hub-webhooks');
  const res = await request.post(url, { headers: { 'content-type': 'application/json' }, data: HUB_EXAMPLE });
  expect(res.status()).toBe(200);
  await openDocker(page);
  const row = activityRow(page, 'svendowideit/testhook:latest');
  await expect(row).toContainText('trustedbuilder');
  await expect(row).toContainText('Triggered');
  await expect(row).toContainText('COMPLETED', { timeout: 20_000 });
});

test('a push whose tag carries a newline is rejected in Activity and starts nothing', async ({ page, request }) => {
  const cards = await api(request, 'GET', `/projects/${ctx.project}/docker-webhooks`);
  const card = cards.find((c: { name: string }) => c.name === 'testhook');
  const url = (await api(request, 'GET', `/docker-webhooks/${card.id}/listener-url`)).url.replace('registry-webhooks', 'docker-hub-webhooks');
  const hostile = {
    push_data: { pushed_at: 1700000000, pusher: 'mallory', tag: 'x\n      hostPID: true' },
    repository: { repo_name: 'svendowideit/testhook', namespace: 'svendowideit', name: 'testhook' },
  };
  const res = await request.post(url, { headers: { 'content-type': 'application/json' }, data: JSON.stringify(hostile) });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain('Rejected: the tag is not valid');
  await openDocker(page);
  const row = page.getByTestId(ids.activityList).locator('tbody tr', { hasText: 'mallory' });
  await expect(row).toContainText('Rejected');
  await expect(row).toContainText('the tag is not valid');
  await expect(row).not.toContainText('#');
  await screenshot(page, '71-docker-activity-rejected');
});

test('Docker Hub cards are kept in sync, and Retry sync repairs a failure', async ({ page, request }) => {
  const hub = await api(request, 'POST', `/projects/${ctx.project}/endpoints`, {
    name: 'docker-hub', serverType: 'docker_hub', url: 'https://index.docker.io', username: 'wharfci', password: 'hub-password',
  });
  const pipeline = (await api(request, 'GET', `/projects/${ctx.project}/pipelines`)).items[0].id;
  const created = await api(request, 'POST', `/projects/${ctx.project}/docker-webhooks`, {
    name: 'hub-web', endpointId: hub.id, pipelineId: pipeline, apiToken: ctx.refresh, image: 'wharfci/web', tag: 'v*',
  });
  expect(created.syncState).toBe('in_sync');
  const control = standins().hubControl;
  const hooks = async () => (await request.get(`${control}/hooks`)).json();
  expect((await hooks()).map((h: { repository: string }) => h.repository)).toEqual(['wharfci/web']);

  await openDocker(page);
  await page.getByRole('tab', { name: 'Webhooks for Docker' }).click();
  const card = page.getByTestId(ids.webhookList).locator('[data-webhook="hub-web"]');
  await expect(card.getByTestId(ids.webhookSync)).toContainText('In sync with Docker Hub');
  await expect(card).toContainText('/pipelines/api/docker-hub-webhooks?secureToken=');

  await request.post(`${control}/failing`, { data: { failing: true } });
  await card.getByRole('button', { name: 'Regenerate token' }).click();
  await card.getByRole('button', { name: 'Regenerate', exact: true }).click();
  await expect(card.getByTestId(ids.webhookSync)).toContainText('Not in sync with Docker Hub');
  await expect(card.getByTestId(ids.webhookSync)).toContainText('503');
  await screenshot(page, '46-docker-hub-sync-error');
  await request.post(`${control}/failing`, { data: { failing: false } });
  await card.getByRole('button', { name: 'Retry sync' }).click();
  await expect(card.getByTestId(ids.webhookSync)).toContainText('In sync with Docker Hub');
  await card.getByRole('button', { name: 'Copy the listener URL' }).click();
  const url = await card.getByTestId(ids.listenerUrl).inputValue();
  expect((await hooks())[0].hook_url).toBe(url);

  await card.getByRole('button', { name: 'Delete' }).click();
  await card.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(card).toHaveCount(0);
  expect(await hooks()).toEqual([]);
  await screenshot(page, '47-docker-webhook-cards');
});
