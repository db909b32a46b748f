// Executions, live: the list and the detail page follow runs started over the REST API without
// a reload (server-sent events); a failed stage shows its task's error in place; a User
// Operation is approved from the detail page; with JavaScript off both pages render complete;
// axe-core finds no serious or critical accessibility violations. Then: deployments waiting on
// their rollout (the Kubernetes stand-in reports it as told) go QUEUED → RUNNING → COMPLETED;
// the server restarts under an open page; pause, resume and cancel from the detail page; the
// home dashboard and a pipeline's recent executions. Own project: live-demo.
import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { admin, ids, screenshot, signIn, gotoHydrated, restartServer, standins, pipelineFixture } from './wharf';

test.describe.configure({ mode: 'serial' });

const WAITS = pipelineFixture('e2e-live-approve', { APPROVER: admin.email });

const FAILS = pipelineFixture('e2e-live-fail');

// a deployment that waits for its rollout, which the Kubernetes stand-in reports as told
const ROLLOUT = pipelineFixture('e2e-live-rollout');

const ctx = { token: '', project: 0, waits: 0, fails: 0, rollout: 0 };

/** Tells the Kubernetes stand-in what the rollout of Deployment `name` reports. */
async function rollout(request: APIRequestContext, name: string, state: 'progressing' | 'complete') {
  const res = await request.post(`${standins().kubeControl}/rollout`, { data: { name, rollout: state } });
  expect(res.status()).toBe(204);
}

async function api(request: APIRequestContext, method: string, url: string, data?: unknown) {
  const res = await request.fetch(`/pipelines/api${url}`, { method, headers: { authorization: `Bearer ${ctx.token}` }, data });
  expect(res.status(), `${method} ${url}: ${await res.text()}`).toBeLessThan(300);
  return res.status() === 204 ? null : res.json();
}

async function run(request: APIRequestContext, pipeline: number, input: Record<string, string> = {}) {
  const out = await api(request, 'POST', `/pipelines/${pipeline}/executions`, { input, comments: 'from the e2e suite' });
  return out.execution.id as number;
}

function row(page: Page, id: number) {
  return page.getByTestId(ids.executionList).locator(`tbody[data-execution="${id}"]`);
}

/** Records every status the row of execution `id` shows, from now on. */
async function recordStatuses(page: Page, id: number) {
  await page.evaluate((id) => {
    const w = window as unknown as { seen: string[] };
    w.seen = [];
    const note = () => {
      const s = document.querySelector(`tbody[data-execution="${id}"]`)?.getAttribute('data-status');
      if (s && w.seen[w.seen.length - 1] !== s) w.seen.push(s);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    note();
  }, id);
}

async function approveOver(request: APIRequestContext, execution: number) {
  let op: { id: number } | undefined;
  await expect(async () => {
    const ops = await api(request, 'GET', '/user-operations');
    op = (ops.items ?? ops).find((o: { executionId?: number; execution_id?: number }) => (o.executionId ?? o.execution_id) === execution);
    expect(op).toBeTruthy();
  }).toPass({ timeout: 10_000 });
  await api(request, 'POST', `/user-operations/${op!.id}/approve`, { comment: 'ok' });
}

async function noSeriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

test('set up over the REST API: project live-demo and two pipelines', async ({ request }) => {
  const t = await (await request.post('/pipelines/api/tokens', { data: { email: admin.email, password: admin.password, name: 'e2e executions' } })).json();
  ctx.token = (await (await request.post('/pipelines/api/login', { data: { refreshToken: t.refreshToken } })).json()).token;
  ctx.project = (await api(request, 'POST', '/projects', { name: 'live-demo', description: 'Live executions' })).id;
  ctx.waits = (await api(request, 'POST', `/projects/${ctx.project}/pipelines`, { yaml: WAITS })).id;
  ctx.fails = (await api(request, 'POST', `/projects/${ctx.project}/pipelines`, { yaml: FAILS })).id;
  await api(request, 'POST', `/projects/${ctx.project}/endpoints`, {
    name: 'cluster', kind: 'kubernetes', url: standins().kube, authMethod: 'bearer_token', password: 'e2e-cluster-token', namespace: 'web',
  });
  ctx.rollout = (await api(request, 'POST', `/projects/${ctx.project}/pipelines`, { yaml: ROLLOUT })).id;
});

test('a new execution appears at the top and goes QUEUED → WAITING → COMPLETED without a reload', async ({ page, request }) => {
  await signIn(page, admin);
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  await expect(page.getByTestId(ids.emptyState)).toContainText('No executions match');
  await expect(page.getByTestId(ids.liveState)).toHaveAttribute('data-live', 'true');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  const id = await run(request, ctx.waits);
  const r = row(page, id);
  await expect(r).toBeVisible();
  await recordStatuses(page, id);
  await expect(r).toHaveAttribute('data-status', 'WAITING');
  await expect(r.locator('.stage-icon')).toHaveCount(3);
  await expect(r.locator('.stage-icon').nth(0)).toHaveClass(/stage-completed/);
  await expect(r.locator('.stage-icon').nth(1)).toHaveClass(/stage-waiting/);
  await expect(r.locator('.stage-icon').nth(1)).toHaveAttribute('title', /^Approve: WAITING · /);
  await screenshot(page, '50-executions-waiting');

  // the waiting stage's tasks, in place
  await r.locator('.stage-icon').nth(1).click();
  await expect(r.getByTestId(ids.stageTasks)).toContainText('Ship');
  await expect(r.getByTestId(ids.stageTasks).locator('li[data-task="Ship"]')).toHaveAttribute('data-status', 'WAITING');

  await approveOver(request, id);
  await expect(r).toHaveAttribute('data-status', 'COMPLETED');
  await expect(r.locator('.stage-icon.stage-completed')).toHaveCount(3);
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen).toContain('WAITING');
  expect(seen[seen.length - 1]).toBe('COMPLETED');
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  await screenshot(page, '51-executions-completed');
});

test('a failed execution shows the failed stage and its task error in place and on the detail page', async ({ page, request }) => {
  await signIn(page, admin);
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  await expect(page.getByTestId(ids.liveState)).toHaveAttribute('data-live', 'true');
  const id = await run(request, ctx.fails);
  const r = row(page, id);
  await expect(r).toHaveAttribute('data-status', 'FAILED');
  const failed = r.locator('.stage-icon.stage-failed');
  await expect(failed).toHaveCount(1);
  await failed.focus();
  await page.keyboard.press('Enter');
  const tasks = r.getByTestId(ids.stageTasks);
  await expect(tasks.locator('li[data-task="Tag"]')).toHaveAttribute('data-status', 'FAILED');
  await expect(tasks.locator('.task-message')).not.toBeEmpty();
  await screenshot(page, '52-executions-failed-stage');
  await noSeriousViolations(page);

  await r.getByRole('link', { name: /live-fail #/ }).click();
  const detail = page.getByTestId(ids.executionDetail);
  await expect(detail).toHaveAttribute('data-status', 'FAILED');
  await detail.locator('.task-card[data-task="Tag"]').click();
  const panel = page.getByTestId(ids.taskPanel);
  await expect(panel).toContainText('Check › Tag');
  await expect(panel.locator('.task-message')).not.toBeEmpty();
  await expect(page.getByTestId(ids.taskLog)).not.toContainText('Waiting for log lines');
  await screenshot(page, '53-execution-detail-failed');
  await noSeriousViolations(page);
});

test('a User Operation is approved from the detail page, which follows the run live', async ({ page, request }) => {
  await signIn(page, admin);
  const id = await run(request, ctx.waits, { TAG: 'v7' });
  await gotoHydrated(page, `/executions/${id}`);
  const detail = page.getByTestId(ids.executionDetail);
  await expect(page.getByTestId(ids.liveState)).toHaveAttribute('data-live', 'true');
  await expect(detail).toHaveAttribute('data-status', 'WAITING');
  const ops = page.getByRole('region', { name: 'Waiting for your approval' });
  await expect(ops).toContainText('Ship v7?');
  await expect(detail.getByRole('group', { name: 'Execution actions' }).getByRole('button', { name: 'Cancel' })).toBeVisible();
  await screenshot(page, '54-execution-detail-waiting');
  await noSeriousViolations(page);
  await ops.getByLabel('Comment').fill('ship it');
  await ops.getByRole('button', { name: 'Approve' }).click();
  await expect(detail).toHaveAttribute('data-status', 'COMPLETED');
  await expect(detail.locator('.stage-column[data-status="COMPLETED"]')).toHaveCount(3);
  await expect(ops).toHaveCount(0);
  await expect(detail.getByRole('button', { name: 'Delete' })).toBeVisible();
  await screenshot(page, '55-execution-detail-completed');
});

test('with JavaScript off the list and the detail page render complete with the right statuses', async ({ browser, page, request }) => {
  await signIn(page, admin);
  const state = await page.context().storageState();
  const id = await run(request, ctx.fails);
  await expect(async () => {
    const e = await api(request, 'GET', `/executions/${id}`);
    expect(e.status).toBe('FAILED');
  }).toPass({ timeout: 10_000 });
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: state });
  const p = await noJs.newPage();
  await p.goto(`/executions?project=${ctx.project}&status=FAILED`);
  await expect(row(p, id)).toHaveAttribute('data-status', 'FAILED');
  await expect(row(p, id).locator('.stage-icon')).toHaveCount(2);
  await expect(row(p, id).locator('.stage-icon').first()).toHaveAttribute('title', /^Check: FAILED/);
  await expect(p.getByTestId(ids.executionList).locator('tbody[data-status="COMPLETED"]')).toHaveCount(0);
  await screenshot(p, '56-executions-no-js');
  await p.goto(`/executions/${id}`);
  await expect(p.getByTestId(ids.executionDetail)).toHaveAttribute('data-status', 'FAILED');
  await expect(p.locator('.task-card[data-task="Tag"]')).toHaveAttribute('data-status', 'FAILED');
  await expect(p.getByRole('heading', { name: /live-fail #\d+/ })).toBeVisible();
  await screenshot(p, '57-execution-detail-no-js');
  await p.goto('/');
  await expect(p.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
  await expect(p.getByTestId(ids.homeCounts).getByRole('region', { name: 'Executions, last 7 days' })).toBeVisible();
  await expect(p.getByRole('heading', { name: 'Latest Activity' })).toBeVisible();
  await noJs.close();
});

test('deployments go QUEUED → RUNNING → COMPLETED as their rollouts finish, stage icons following, without a reload', async ({ page, request }) => {
  await rollout(request, 'live-a', 'progressing');
  await rollout(request, 'live-b', 'progressing');
  await signIn(page, admin);
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  await expect(page.getByTestId(ids.liveState)).toHaveAttribute('data-live', 'true');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  const first = await run(request, ctx.rollout, { NAME: 'live-a' });
  await expect(row(page, first)).toHaveAttribute('data-status', 'RUNNING');
  await expect(row(page, first).locator('.stage-icon').nth(0)).toHaveClass(/stage-running/);
  await expect(row(page, first).locator('.stage-icon').nth(1)).toHaveClass(/stage-queued/);
  // one execution of a pipeline at a time: the second waits in the queue
  const second = await run(request, ctx.rollout, { NAME: 'live-b' });
  await recordStatuses(page, second);
  await expect(row(page, second)).toHaveAttribute('data-status', 'QUEUED');
  await expect(row(page, second).locator('.stage-icon.stage-queued')).toHaveCount(2);
  // and says why it waits
  await expect(row(page, second).getByTestId(ids.queueReason)).toHaveText(
    /^Waiting for live-rollout #\d+ \(RUNNING\): this pipeline runs one at a time$/,
  );
  await screenshot(page, '58-executions-queued-and-running');
  // the queued one's page, in a second tab
  const tab = await page.context().newPage();
  await gotoHydrated(tab, `/executions/${second}`);
  await expect(tab.getByTestId(ids.executionDetail)).toHaveAttribute('data-status', 'QUEUED');
  await expect(tab.locator('.stage-column[data-status="QUEUED"]')).toHaveCount(2);
  await expect(tab.getByTestId(ids.queueReason)).toContainText('this pipeline runs one at a time');
  await screenshot(tab, '65-execution-detail-queued');
  await tab.close();
  // a third, behind both: its page names the run it waits for, and follows when that changes
  await rollout(request, 'live-c', 'progressing');
  const third = await run(request, ctx.rollout, { NAME: 'live-c' });
  const thirdTab = await page.context().newPage();
  await gotoHydrated(thirdTab, `/executions/${third}`);
  const reason = thirdTab.getByTestId(ids.queueReason);
  await expect(reason).toHaveText(/^Waiting for live-rollout #\d+ \(RUNNING\): this pipeline runs one at a time$/);
  const holder = Number((await reason.textContent())?.match(/#(\d+)/)?.[1]);

  // the running stage's task, in place, with its ticking duration
  await row(page, first).locator('.stage-icon').nth(0).click();
  await expect(row(page, first).getByTestId(ids.stageTasks).locator('li[data-task="Apply"]')).toHaveAttribute('data-status', 'RUNNING');

  await rollout(request, 'live-a', 'complete');
  await expect(row(page, first)).toHaveAttribute('data-status', 'COMPLETED');
  await expect(row(page, first).locator('.stage-icon.stage-completed')).toHaveCount(2);
  await expect(row(page, second)).toHaveAttribute('data-status', 'RUNNING');
  await expect(row(page, second).locator('.stage-icon').nth(0)).toHaveClass(/stage-running/);
  // the third's page, without a reload, now names the second
  await expect(reason).toHaveText(`Waiting for live-rollout #${holder + 1} (RUNNING): this pipeline runs one at a time`);
  await screenshot(thirdTab, '67-execution-detail-queued-new-head');
  await rollout(request, 'live-b', 'complete');
  await expect(row(page, second)).toHaveAttribute('data-status', 'COMPLETED');
  await expect(thirdTab.getByTestId(ids.executionDetail)).toHaveAttribute('data-status', 'RUNNING');
  await expect(reason).toHaveCount(0);
  await rollout(request, 'live-c', 'complete');
  await expect(thirdTab.getByTestId(ids.executionDetail)).toHaveAttribute('data-status', 'COMPLETED');
  await thirdTab.close();
  expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);
});

test('a restart of the server while the page is open: it reconnects and ends in the right state', async ({ page, request }) => {
  await signIn(page, admin);
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  const state = page.getByTestId(ids.liveState);
  await expect(state).toHaveAttribute('data-live', 'true');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 9));
  const waiting = await run(request, ctx.waits, { TAG: 'v9' });
  await expect(row(page, waiting)).toHaveAttribute('data-status', 'WAITING');

  await restartServer(request);
  // while the page reconnects: the waiting run is approved and another run fails
  await approveOver(request, waiting);
  const failing = await run(request, ctx.fails);
  await expect(row(page, waiting)).toHaveAttribute('data-status', 'COMPLETED', { timeout: 20_000 });
  await expect(row(page, failing)).toHaveAttribute('data-status', 'FAILED');
  await expect(state).toHaveAttribute('data-live', 'true');
  await expect(page.getByTestId(ids.executionList).locator(`tbody[data-execution="${failing}"]`)).toHaveCount(1);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(9);
});

test('every status on the detail page: paused and resumed, canceled, running', async ({ page, request }) => {
  await rollout(request, 'live-c', 'progressing');
  await signIn(page, admin);
  const id = await run(request, ctx.rollout, { NAME: 'live-c' });
  await gotoHydrated(page, `/executions/${id}`);
  const detail = page.getByTestId(ids.executionDetail);
  await expect(detail).toHaveAttribute('data-status', 'RUNNING');
  await detail.locator('.task-card[data-task="Apply"]').click();
  await expect(page.getByTestId(ids.taskLog)).toContainText('Waiting up to 120 s for the rollout');
  // the bound input: the pipeline's \${input.NAME} resolved
  await expect(page.getByTestId(ids.taskInput)).toContainText('name: live-c');
  await screenshot(page, '59-execution-detail-running');
  // Pause takes effect when the running stage ends
  await detail.getByRole('button', { name: 'Pause' }).click();
  await rollout(request, 'live-c', 'complete');
  await expect(detail).toHaveAttribute('data-status', 'PAUSED');
  await expect(detail.locator('.stage-column[data-stage="Verify"]')).toHaveAttribute('data-status', 'QUEUED');
  await screenshot(page, '60-execution-detail-paused');
  const list = await page.context().newPage();
  await gotoHydrated(list, `/executions?project=${ctx.project}`);
  await expect(row(list, id)).toHaveAttribute('data-status', 'PAUSED');
  await expect(row(list, id).locator('.stage-icon').nth(1)).toHaveClass(/stage-queued/);
  await screenshot(list, '66-executions-paused');
  await detail.getByRole('button', { name: 'Resume' }).click();
  await expect(detail).toHaveAttribute('data-status', 'COMPLETED');
  // the list open in the other tab follows
  await expect(row(list, id)).toHaveAttribute('data-status', 'COMPLETED');
  await list.close();

  const waiting = await run(request, ctx.waits, { TAG: 'v10' });
  await gotoHydrated(page, `/executions/${waiting}`);
  await expect(detail).toHaveAttribute('data-status', 'WAITING');
  await detail.getByRole('group', { name: 'Execution actions' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(detail).toHaveAttribute('data-status', 'CANCELED');
  await expect(detail.getByRole('button', { name: 'Cancel', exact: true })).toHaveCount(0);
  await screenshot(page, '61-execution-detail-canceled');

  // the list, one row in each status this project has seen
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  for (const s of ['COMPLETED', 'FAILED', 'CANCELED']) {
    await expect(page.getByTestId(ids.executionList).locator(`tbody[data-status="${s}"]`).first()).toBeVisible();
  }
  await screenshot(page, '62-executions-every-status');
});

test('the home dashboard: counts, the latest executions live, Activity; the pipeline page lists its runs', async ({ page, request }) => {
  await signIn(page, admin);
  await gotoHydrated(page, '/');
  await page.getByTestId(ids.projectSelector).selectOption({ label: 'live-demo' });
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
  await expect(page.getByText('Project live-demo:')).toBeVisible();
  const counts = page.getByTestId(ids.homeCounts);
  const day = counts.getByRole('region', { name: 'Executions, last 24 hours' });
  await expect(day.locator('li[data-status="CANCELED"] .count-n')).toHaveText('1');
  const before = Number(await day.locator('.count-number').textContent());
  expect(before).toBeGreaterThanOrEqual(8);
  await expect(page.getByTestId(ids.liveState)).toHaveAttribute('data-live', 'true');
  await expect(page.getByTestId(ids.homeFailing)).toContainText('None');
  await expect(page.getByTestId(ids.homeActivity)).toContainText('No Docker events yet');

  // the server renders the dashboard and the browser swaps it in after each change: a link a
  // keyboard user is on keeps the focus through the swap
  const all = page.getByRole('link', { name: 'All executions' });
  await all.focus();
  const id = await run(request, ctx.fails);
  await expect(row(page, id)).toHaveAttribute('data-status', 'FAILED');
  await expect(row(page, id).locator('.stage-icon.stage-failed')).toHaveCount(1);
  await expect(row(page, id).getByRole('img', { name: /: FAILED$/ })).toHaveCount(1);
  await expect(day.locator('.count-number')).toHaveText(String(before + 1));
  await expect(all).toBeFocused();
  await screenshot(page, '63-home-dashboard');
  await noSeriousViolations(page);
  // a count is a link to those executions
  await day.locator('li[data-status="CANCELED"] a').click();
  await expect(page).toHaveURL(new RegExp(`/executions\\?project=${ctx.project}&status=CANCELED$`));
  await expect(page.getByTestId(ids.executionList).locator('tbody')).toHaveCount(1);

  // the filters: a project's pipeline
  await gotoHydrated(page, `/executions?project=${ctx.project}`);
  const filters = page.getByTestId(ids.executionFilters);
  await filters.getByLabel('Pipeline').selectOption({ label: 'live-rollout' });
  await filters.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]pipeline=${ctx.rollout}(&|$)`));
  await expect(page.getByTestId(ids.executionList).locator('tbody')).toHaveCount(4);
  await expect(page.getByText('One pipeline only.')).toBeVisible();

  await gotoHydrated(page, `/pipelines/${ctx.rollout}`);
  const recent = page.getByTestId(ids.pipelineExecutions);
  await expect(recent.locator('tbody')).toHaveCount(4);
  await expect(recent.locator('tbody[data-status="COMPLETED"] .stage-icon.stage-completed')).toHaveCount(8);
  await expect(recent.getByRole('link', { name: 'All executions of this pipeline' })).toHaveAttribute('href', `/executions?project=${ctx.project}&pipeline=${ctx.rollout}`);
  await screenshot(page, '64-pipeline-recent-executions');
});
