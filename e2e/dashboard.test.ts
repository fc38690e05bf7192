/**
 * The sandbox dashboard in a real browser (the system Chromium through playwright-core): the
 * gateway's own page (lib/dashboard/) with the sandbox's buttons. It shows the fleet live with
 * each service's charts from the gateway, fits 1,024 and 1,400 px without a horizontal scrollbar, a Crash click takes an instance down (the row turns DOWN or the instance
 * leaves the registry), and the supervisor brings it back on a new address; an instance that
 * joined through the Eureka API shows its origin. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { SandboxCli } from './sandbox-kit.js';
import { launchChromium, watchedPage } from './support/browser.js';

const SHOTS = join(import.meta.dirname, '..', 'test-results');

// The restart delay is longer than TTL + 1 s, so the crash is visible in the registry before the instance returns.
const FLEET = `
gateway: { ttl: 3s, healthInterval: 500ms, healthTimeout: 300ms, healthMaxFailures: 2, env: { LOG_LEVEL: warn } }
supervisor: { restartCrashed: true, restartDelay: 6s }
services:
  - name: orders
    instances: 2
    routes: [GET /api/orders/**]
  - name: users
    instances: 1
    routes: [GET /api/users/**]
`;

describe('gw-sandbox dashboard', () => {
  const cli = new SandboxCli();
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close();
    await cli.cleanup();
  });

  it('shows the fleet, Crash takes an instance down, and it comes back', { timeout: 90_000 }, async () => {
    mkdirSync(SHOTS, { recursive: true });
    const fleetFile = join(cli.dir, 'fleet.yaml');
    writeFileSync(fleetFile, FLEET);
    const up = await cli.run(['up', '--detach', '--fleet', fleetFile]);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    const state = cli.state();
    assert.ok(state?.controlUrl);
    const oldUrl = state.processes.find((p) => p.name === 'orders-1')?.url;

    browser = await launchChromium();
    const { page, problems } = await watchedPage(browser, { width: 1400, height: 800 });
    await page.goto(state.controlUrl);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
    for (const id of ['orders-1', 'orders-2', 'users-1']) {
      await page.locator(`tr[data-instance="${id}"][data-registry="UP"]`).waitFor({ timeout: 15_000 });
    }
    await page.locator('[data-gateway="gateway-1"] [data-testid="gateway-health"]', { hasText: 'healthy' }).waitFor();
    assert.match((await page.locator('header').textContent()) ?? '', /backend memory/);
    // The same charts as on the gateway's page, fed by its dashboard.
    await page.locator('[data-service="orders"] figure[data-metric="rps"]').waitFor({ timeout: 10_000 });
    for (const width of [1024, 1400]) {
      await page.setViewportSize({ width, height: 800 });
      const layout: { scrollWidth: number; clientWidth: number; right: number } = await page.evaluate(
        `(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
          right: document.getElementById('events-column').getBoundingClientRect().right }))()`,
      );
      assert.ok(layout.scrollWidth <= layout.clientWidth, `${width} px: ${JSON.stringify(layout)}`);
      assert.ok(layout.right <= layout.clientWidth, `${width} px: events column in view`);
    }
    await page.setViewportSize({ width: 1400, height: 800 });
    await page.screenshot({ path: join(SHOTS, 'dashboard-1-fleet.png'), fullPage: true });

    // An instance that joins through the Eureka API shows with its origin (kept alive by heartbeats).
    const gateway = state.gatewayUrls[0]!;
    const eureka = await fetch(`${gateway}/eureka/apps/LEGACY`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instance: {
          app: 'LEGACY',
          hostName: 'legacy-host',
          ipAddr: '127.0.0.1',
          port: { $: 9, '@enabled': 'true' },
          dataCenterInfo: { name: 'MyOwn' },
        },
      }),
    });
    assert.equal(eureka.status, 204);
    const beat = setInterval(() => {
      void fetch(`${gateway}/eureka/apps/LEGACY/legacy-host`, { method: 'PUT' }).catch(() => {});
    }, 500);
    try {
      await page
        .locator('tr[data-instance="legacy-host"][data-origin="eureka"] [data-testid="origin"]', {
          hasText: 'external (eureka)',
        })
        .waitFor({ timeout: 10_000 });
    } finally {
      clearInterval(beat);
      await fetch(`${gateway}/eureka/apps/LEGACY/legacy-host`, { method: 'DELETE' });
    }

    const row = page.locator('tr[data-instance="orders-1"]');
    await row.locator('button[data-action="crash"]').click();
    await row.locator('[data-testid="process-status"]', { hasText: 'crashed' }).waitFor({ timeout: 5000 });
    // Out of routing: DOWN by the health checks, or gone once the lease expires.
    await page
      .locator('tr[data-instance="orders-1"]:is([data-registry="DOWN"], [data-registry="ABSENT"])')
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'dashboard-2-crashed.png'), fullPage: true });
    assert.match((await page.locator('#events').textContent()) ?? '', /orders-1.*crashed \(kill -9\)/);

    // The supervisor restarts it after the fleet's restart delay, on a new port.
    await page.locator('tr[data-instance="orders-1"][data-registry="UP"]').waitFor({ timeout: 20_000 });
    await row.locator('[data-testid="process-status"]', { hasText: 'running' }).waitFor({ timeout: 5000 });
    const newUrl = (await row.locator('td.url').textContent())?.trim();
    assert.ok(newUrl?.startsWith('http://127.0.0.1:'));
    assert.notEqual(newUrl, oldUrl, 'it came back on a new address');
    await page.screenshot({ path: join(SHOTS, 'dashboard-3-back.png'), fullPage: true });

    // Restart from the page works too.
    const usersPid = cli.state()?.processes.find((p) => p.name === 'users-1')?.pid;
    await page.locator('tr[data-instance="users-1"] button[data-action="restart"]').click();
    await page
      .locator('#events li', { hasText: /users-1.*restarted in \d+ ms/ })
      .first()
      .waitFor({ timeout: 15_000 });
    assert.notEqual(cli.state()?.processes.find((p) => p.name === 'users-1')?.pid, usersPid);

    assert.deepEqual(problems, [], 'no console errors');
    await browser.close();
    browser = undefined;
    cli.state();
    const down = await cli.run(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await cli.leftovers(), { pids: [], ports: [] });
  });
});
