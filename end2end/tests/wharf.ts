// Page objects and shared values. The data-testid strings are the ones app/src/ids.rs defines.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const admin = { email: 'admin@example.com', name: 'Ada Admin', password: 'correct horse battery staple' };
export const viewer = { email: 'viv@example.com', name: 'Viv Viewer', password: 'viewer password 2026' };

export const ids = {
  setupForm: 'setup-form',
  signInForm: 'sign-in-form',
  formError: 'form-error',
  userMenuButton: 'user-menu-button',
  userMenu: 'user-menu',
  signOut: 'sign-out',
  projectSelector: 'project-selector',
  nav: 'main-nav',
  emptyState: 'empty-state',
  newProjectForm: 'new-project-form',
  projectList: 'project-list',
  projectSettingsForm: 'project-settings-form',
  readOnlyNotice: 'read-only-notice',
  memberList: 'member-list',
  addMemberForm: 'add-member-form',
  deleteProject: 'delete-project',
  userList: 'user-list',
  newUserForm: 'new-user-form',
  notFound: 'not-found',
  newVariableForm: 'new-variable-form',
  variableList: 'variable-list',
  tokenDialog: 'token-dialog',
  tokenValue: 'token-value',
  tokenVariableForm: 'token-variable-form',
  tokenList: 'token-list',
  generateToken: 'generate-token',
  newEndpoint: 'new-endpoint',
  endpointList: 'endpoint-list',
  endpointEditor: 'endpoint-editor',
  plainHttpWarning: 'plain-http-warning',
  secretDiscarded: 'secret-discarded',
  certificateDialog: 'certificate-dialog',
  certificateFingerprint: 'certificate-fingerprint',
  newPipeline: 'new-pipeline',
  pipelineList: 'pipeline-list',
  runDialog: 'run-dialog',
  runResult: 'run-result',
  exportDialog: 'export-dialog',
  importDialog: 'import-dialog',
  pipelineYaml: 'pipeline-yaml',
  pipelineValid: 'pipeline-valid',
  pipelineProblems: 'pipeline-problems',
  pipelineAttention: 'pipeline-attention',
  yamlGutter: 'yaml-gutter',
  designer: 'designer',
  designerBoard: 'designer-board',
  designerPanel: 'designer-panel',
  addTaskForm: 'add-task-form',
  taskForm: 'task-form',
  bindingList: 'binding-list',
  pipelineDiagram: 'pipeline-diagram',
  pipelineInputs: 'pipeline-inputs',
  savePipeline: 'save-pipeline',
  injectDocker: 'inject-docker',
  userOperationList: 'user-operation-list',
  newWebhook: 'new-webhook',
  webhookList: 'webhook-list',
  webhookEditor: 'webhook-editor',
  webhookSync: 'webhook-sync',
  listenerUrl: 'listener-url',
  activityList: 'activity-list',
  activityDetail: 'activity-detail',
  activityPayload: 'activity-payload',
  executionList: 'execution-list',
  executionFilters: 'execution-filters',
  executionDetail: 'execution-detail',
  stageTasks: 'stage-tasks',
  taskPanel: 'task-panel',
  taskLog: 'task-log',
  liveState: 'live-state',
  queueReason: 'queue-reason',
  homeCounts: 'home-counts',
  homeFailing: 'home-failing',
  homeActivity: 'home-activity',
  pipelineExecutions: 'pipeline-executions',
  taskInput: 'task-input',
};

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(__dirname, '..', 'screenshots', `${name}.png`), fullPage: true });
}

/** Waits until the page's wasm has loaded and hydrated (registered before navigation). */
export async function gotoHydrated(page: Page, url: string) {
  const wasm = page.waitForResponse(/\.wasm$/);
  await page.goto(url);
  await wasm;
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
}

export async function signIn(page: Page, who: { email: string; password: string }) {
  await gotoHydrated(page, '/login');
  const form = page.getByTestId(ids.signInForm);
  await form.getByLabel('E-mail address').fill(who.email);
  await form.getByLabel('Password').fill(who.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId(ids.userMenuButton)).toBeVisible();
}

export async function signOut(page: Page) {
  await page.getByTestId(ids.userMenuButton).click();
  await page.getByTestId(ids.signOut).click();
  await expect(page).toHaveURL(/\/login$/);
}

const target = path.join(__dirname, '..', '..', 'target');

/** The URLs of the Kubernetes and Docker Hub stand-ins and their test controls. */
export function standins(): { kube: string; kubeControl: string; hub: string; hubControl: string } {
  return JSON.parse(fs.readFileSync(path.join(target, 'e2e-standins.json'), 'utf8'));
}

/** Restarts Wharf (scripts/e2e-server.sh starts it again on the same data) and waits until it
 * answers again. */
export async function restartServer(request: APIRequestContext) {
  const pidFile = path.join(target, 'e2e-wharf.pid');
  const old = fs.readFileSync(pidFile, 'utf8').trim();
  fs.writeFileSync(path.join(target, 'e2e-wharf.restart'), '');
  process.kill(Number(old), 'SIGTERM');
  await expect.poll(() => fs.readFileSync(pidFile, 'utf8').trim(), { timeout: 20_000 }).not.toBe(old);
  await expect
    .poll(async () => (await request.get('/readyz').catch(() => null))?.status() ?? 0, { timeout: 30_000 })
    .toBe(200);
}

/** An Aria export of `testkit/fixtures/aria/` (the corpus the Rust tests read), as written. */
export function ariaFixture(name: string): string {
  return fs.readFileSync(path.join(__dirname, '..', '..', 'testkit', 'fixtures', 'aria', `${name}.yaml`), 'utf8');
}

/**
 * A pipeline of `testkit/fixtures/pipelines/` (the same files the Rust tests read), with each
 * `@KEY@` mark filled from `values`; a mark left unfilled fails the test.
 */
export function pipelineFixture(name: string, values: Record<string, string> = {}): string {
  let text = fs.readFileSync(path.join(__dirname, '..', '..', 'testkit', 'fixtures', 'pipelines', `${name}.yaml`), 'utf8');
  for (const [key, value] of Object.entries(values)) {
    if (!text.includes(`@${key}@`)) throw new Error(`fixture ${name} has no @${key}@`);
    text = text.split(`@${key}@`).join(value);
  }
  const left = text.match(/@[A-Z_]+@/);
  if (left) throw new Error(`fixture ${name}: ${left[0]} was not given a value`);
  return text;
}
