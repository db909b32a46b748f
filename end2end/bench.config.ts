// Benchmarks (not tests) that need the browser: run by scripts/bench-live.sh, never by the suite.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  projects: undefined,
  timeout: 600_000,
  reporter: [['list']],
  webServer: { ...base.webServer!, env: { ...(base.webServer as { env: Record<string, string> }).env, WHARF_ADMIN_EMAIL: 'bench@example.com', WHARF_ADMIN_PASSWORD: 'bench password 2026', WHARF_LOG: 'error', WHARF_SITE_ROOT: process.env.WHARF_SITE_ROOT ?? `${__dirname}/../target/site-release` } },
});
