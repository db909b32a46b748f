import { test, expect } from '@playwright/test';
import { admin, viewer, ids, screenshot, signIn, signOut } from './wharf';

test.describe.configure({ mode: 'serial' });

test('an administrator creates a project, a user, and adds that user as a viewer', async ({ page }) => {
  await signIn(page, admin);
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Projects' }).click();
  await expect(page.getByRole('heading', { name: 'Projects', exact: true })).toBeVisible();
  await expect(page.getByTestId(ids.emptyState)).toContainText('No projects yet');

  const form = page.getByTestId(ids.newProjectForm);
  await form.getByLabel('Name').fill('web-frontend');
  await form.getByLabel('Description').fill('The public web site <b>not bold</b>');
  await form.getByRole('button', { name: 'Create project' }).click();
  const list = page.getByTestId(ids.projectList);
  await expect(list.getByRole('link', { name: 'web-frontend' })).toBeVisible();
  // hostile text is shown as text
  await expect(list).toContainText('<b>not bold</b>');
  // the header's project selector knows the new project without a reload
  await expect(page.getByTestId(ids.projectSelector)).toContainText('web-frontend');
  // a duplicate name is refused beside the field
  await form.getByLabel('Name').fill('Web-Frontend');
  await form.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByText('A project with that name already exists.')).toBeVisible();
  await screenshot(page, '07-projects');

  await page.getByTestId(ids.nav).getByRole('link', { name: 'Users' }).click();
  const userForm = page.getByTestId(ids.newUserForm);
  await page.getByText('New user').click();
  await userForm.getByLabel('E-mail address').fill(viewer.email);
  await userForm.getByLabel('Name').fill(viewer.name);
  await userForm.getByLabel('First password').fill(viewer.password);
  await userForm.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByTestId(ids.userList)).toContainText(viewer.email);
  await screenshot(page, '08-users');

  await page.getByTestId(ids.nav).getByRole('link', { name: 'Projects' }).click();
  await page.getByRole('link', { name: 'web-frontend' }).click();
  const add = page.getByTestId(ids.addMemberForm);
  await add.getByLabel('E-mail address').fill(viewer.email);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByTestId(ids.memberList)).toContainText(viewer.name);
  // an unknown person is refused with a reason
  await add.getByLabel('E-mail address').fill('nobody@example.com');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByText('No Wharf user has that e-mail address.', { exact: false })).toBeVisible();
  await screenshot(page, '09-project-admin');
  await signOut(page);
});

test('a viewer sees the project read-only', async ({ page }) => {
  await signIn(page, viewer);
  // the Users page is not in a non-administrator's navigation
  await expect(page.getByTestId(ids.nav).getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.getByTestId(ids.nav).getByRole('link', { name: 'Projects' }).click();
  await expect(page.getByTestId(ids.newProjectForm)).toHaveCount(0);
  await page.getByRole('link', { name: 'web-frontend' }).click();
  await expect(page.getByTestId(ids.readOnlyNotice)).toBeVisible();
  await expect(page.getByTestId(ids.projectSettingsForm)).toHaveCount(0);
  await expect(page.getByTestId(ids.addMemberForm)).toHaveCount(0);
  await expect(page.getByTestId(ids.deleteProject)).toHaveCount(0);
  await expect(page.getByTestId(ids.memberList).getByRole('combobox')).toHaveCount(0);
  await screenshot(page, '10-project-viewer');
  // and the Users page refuses them
  await page.goto('/users');
  await expect(page.getByText('Only administrators can do this.')).toBeVisible();
});

test('an administrator renames and then deletes a project', async ({ page }) => {
  await signIn(page, admin);
  await page.goto('/projects');
  await page.getByTestId(ids.newProjectForm).getByLabel('Name').fill('scratch');
  await page.getByTestId(ids.newProjectForm).getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('link', { name: 'scratch' }).click();
  const settings = page.getByTestId(ids.projectSettingsForm);
  await settings.getByLabel('Name').fill('scratch-renamed');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: 'scratch-renamed' })).toBeVisible();
  await page.getByTestId(ids.deleteProject).click();
  await page.getByRole('button', { name: 'Yes, delete it' }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByTestId(ids.projectList)).not.toContainText('scratch-renamed');
});
