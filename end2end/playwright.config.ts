import { defineConfig } from '@playwright/test';

const port = Number(process.env.WHARF_E2E_PORT ?? 3910);
const baseURL = `http://127.0.0.1:${port}`;

// Debian's Chromium, never a downloaded browser. These flags keep it off the network:
// this machine reaches only loopback.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs },
  },
  projects: [
    // an empty installation: the first visitor creates the administrator
    { name: 'first-run', testMatch: /first-run\.spec\.ts/ },
    // the administrator makes project web-frontend and the viewer that later files rely on
    { name: 'setup', testMatch: /projects\.spec\.ts/, dependencies: ['first-run'] },
    { name: 'app', testIgnore: /(first-run|projects|executions|designer|a11y)\.spec\.ts/, dependencies: ['setup'] },
    // last: they start executions in projects of their own, which the pages above expect not
    // to exist (the designer builds, runs and deploys the seeds' pipeline)
    { name: 'live', testMatch: /(executions|designer)\.spec\.ts/, dependencies: ['app'] },
    // every page, filled by all of the above: axe, and a phone's width
    { name: 'a11y', testMatch: /a11y\.spec\.ts/, dependencies: ['live'] },
  ],
  webServer: {
    command: 'bash ../scripts/e2e-server.sh',
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { WHARF_E2E_PORT: String(port) },
    // SIGTERM, not Playwright's default SIGKILL: the server script's exit trap then stops
    // Wharf and removes its temporary data directory (SIGKILL left one in /tmp per run)
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },
});
