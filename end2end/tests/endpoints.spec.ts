import { test, expect, type Page } from '@playwright/test';
import { admin, viewer, ids, screenshot, signIn } from './wharf';
import { startTlsRegistry, type TlsRegistry } from './registry';

test.describe.configure({ mode: 'serial' });

const registryPassword = 'alice-registry-pass-never-shown';
const clusterToken = 'cluster-token-never-shown';
let registry: TlsRegistry;

test.beforeAll(async () => {
  registry = await startTlsRegistry('alice', registryPassword);
});

test.afterAll(() => registry?.stop());

async function openEndpoints(page: Page) {
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Endpoints' }).click();
  await expect(page.getByRole('heading', { name: 'Endpoints', exact: true })).toBeVisible();
  await expect(page.getByText('Project: web-frontend')).toBeVisible();
}

test('a Docker Registry endpoint over TLS: accept its certificate, then Validate signs in', async ({ page }) => {
  await signIn(page, admin);
  await openEndpoints(page);
  await expect(page.getByTestId(ids.emptyState)).toContainText('No endpoints yet');
  await screenshot(page, '20-endpoints-empty');

  await page.getByTestId(ids.newEndpoint).click();
  const editor = page.getByTestId(ids.endpointEditor);
  await expect(editor.getByRole('heading', { name: 'New Endpoint' })).toBeVisible();
  // Escape closes the editor without saving
  await page.keyboard.press('Escape');
  await expect(editor).toHaveCount(0);

  await page.getByTestId(ids.newEndpoint).click();
  await expect(editor.getByLabel('Type', { exact: true })).toHaveValue('docker_registry');
  await editor.getByLabel('Name', { exact: true }).fill('local-registry');
  await editor.getByLabel('Server type').selectOption('docker_registry');
  await editor.getByLabel('Repository URL').fill(registry.url);
  await editor.getByLabel('User name').fill('alice');
  await editor.getByLabel('Password or access token').fill(registryPassword);
  await expect(editor.getByTestId(ids.plainHttpWarning)).toHaveCount(0);
  await editor.getByRole('button', { name: 'Create' }).click();

  // Accept certificate: subject, issuer, validity and the fingerprint openssl computed
  const dialog = page.getByTestId(ids.certificateDialog);
  await expect(dialog.getByRole('heading', { name: 'Accept certificate' })).toBeVisible();
  await expect(dialog).toContainText('CN=wharf-e2e-registry');
  await expect(dialog).toContainText('Valid until');
  await expect(dialog.getByTestId(ids.certificateFingerprint)).toHaveText(registry.fingerprint);
  await screenshot(page, '21-accept-certificate');
  await dialog.getByRole('button', { name: 'Accept' }).click();

  await expect(editor).toHaveCount(0);
  const row = page.getByTestId(ids.endpointList).getByRole('row', { name: /local-registry/ });
  await expect(row).toContainText('Docker Registry · Docker Registry (v2)');
  await expect(row).toContainText('Certificate accepted');
  await expect(row).toContainText('Not validated yet');
  await row.getByRole('button', { name: 'Validate local-registry' }).click();
  await expect(row).toContainText('✓ Valid');
  await expect(row).toContainText('Authenticated as alice.');
  await screenshot(page, '22-endpoint-validated');

  // editing keeps the password and the accepted certificate: no dialog, still valid
  await row.getByRole('button', { name: 'Edit local-registry' }).click();
  await expect(editor.getByLabel('Type', { exact: true })).toBeDisabled();
  await expect(editor.getByLabel('Password or access token')).toHaveAttribute('placeholder', /A value is set/);
  await expect(editor.getByLabel('Password or access token')).toHaveValue('');
  await editor.getByLabel('Name', { exact: true }).fill('registry-tls');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor).toHaveCount(0);
  const renamed = page.getByTestId(ids.endpointList).getByRole('row', { name: /registry-tls/ });
  await renamed.getByRole('button', { name: 'Validate registry-tls' }).click();
  await expect(renamed).toContainText('Authenticated as alice.');
  expect(await page.content()).not.toContain(registryPassword);
});

test('a Kubernetes endpoint: errors beside the fields, a plain-http warning, Validate in words', async ({ page }) => {
  await signIn(page, admin);
  await openEndpoints(page);
  await page.getByTestId(ids.newEndpoint).click();
  const editor = page.getByTestId(ids.endpointEditor);
  await editor.getByLabel('Type', { exact: true }).selectOption('kubernetes');
  await editor.getByLabel('Name', { exact: true }).fill('dev-cluster');
  await editor.getByLabel('API server URL').fill('http://127.0.0.1:1');
  await expect(editor.getByTestId(ids.plainHttpWarning)).toBeVisible();
  await expect(editor.getByLabel('Authentication')).toHaveValue('bearer_token');
  await editor.getByLabel('Token', { exact: true }).fill(clusterToken);
  await editor.getByLabel('Default namespace').fill('Web_Prod');
  await editor.getByRole('button', { name: 'Create' }).click();
  await expect(editor.getByText('A namespace has at most 63 lower-case letters')).toBeVisible();
  await screenshot(page, '23-kubernetes-endpoint-error');

  await editor.getByLabel('Default namespace').fill('web');
  await editor.getByRole('button', { name: 'Create' }).click();
  await expect(editor).toHaveCount(0);
  const row = page.getByTestId(ids.endpointList).getByRole('row', { name: /dev-cluster/ });
  await expect(row).toContainText('Kubernetes · Bearer token');
  await expect(row).toContainText('Namespace web');
  await expect(row).toContainText('Plain http: not encrypted');
  await row.getByRole('button', { name: 'Validate dev-cluster' }).click();
  await expect(row).toContainText('✗ Failed');
  await expect(row).toContainText('No Kubernetes API at this URL');
  await screenshot(page, '24-endpoints');
  expect(await page.content()).not.toContain(clusterToken);

  // a stored token is bound to where it was entered: moving the endpoint asks for it again
  await row.getByRole('button', { name: 'Edit dev-cluster' }).click();
  await expect(editor.getByTestId(ids.secretDiscarded)).toHaveCount(0);
  await editor.getByLabel('API server URL').fill('http://127.0.0.2:1');
  await expect(editor.getByTestId(ids.secretDiscarded)).toBeVisible();
  await expect(editor.getByLabel('Token', { exact: true })).not.toHaveAttribute('placeholder', /A value is set/);
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByText('The URL changed, so the stored secret was discarded')).toBeVisible();
  await screenshot(page, '70-endpoint-secret-discarded');
  await page.keyboard.press('Escape');
  await expect(editor).toHaveCount(0);
  await expect(row).toContainText('Namespace web');

  // the client-certificate method asks for the certificate and the key
  await page.getByTestId(ids.newEndpoint).click();
  await editor.getByLabel('Type', { exact: true }).selectOption('kubernetes');
  await editor.getByLabel('Authentication').selectOption('client_certificate');
  await expect(editor.getByLabel('Client certificate (PEM)')).toBeVisible();
  await expect(editor.getByLabel('Client key (PEM)')).toBeVisible();
  await expect(editor.getByLabel('User name')).toHaveCount(0);
  await editor.getByRole('button', { name: 'Cancel' }).click();
  await expect(editor).toHaveCount(0);
});

test('a viewer sees the endpoints, no credentials and no controls', async ({ page }) => {
  await signIn(page, viewer);
  await openEndpoints(page);
  const list = page.getByTestId(ids.endpointList);
  await expect(list).toContainText('registry-tls');
  await expect(list).toContainText('dev-cluster');
  await expect(page.getByTestId(ids.readOnlyNotice)).toBeVisible();
  await expect(page.getByTestId(ids.newEndpoint)).toHaveCount(0);
  await expect(list.getByRole('button')).toHaveCount(0);
  const html = await page.content();
  expect(html).not.toContain(registryPassword);
  expect(html).not.toContain(clusterToken);
  await screenshot(page, '25-endpoints-viewer');
});

test('deleting asks first', async ({ page }) => {
  await signIn(page, admin);
  await openEndpoints(page);
  const row = page.getByTestId(ids.endpointList).getByRole('row', { name: /dev-cluster/ });
  await row.getByRole('button', { name: 'Delete dev-cluster' }).click();
  await row.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page.getByTestId(ids.endpointList)).not.toContainText('dev-cluster');
  await expect(page.getByTestId(ids.endpointList)).toContainText('registry-tls');
});
