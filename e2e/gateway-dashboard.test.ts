/**
 * The gateway's own dashboard (`/_fleetgate/`) in a real browser (the system Chromium through
 * playwright-core) against the real `fleetgate` bin and real upstream processes: the request-rate
 * sparkline rises under a bounded load loop, a killed instance shows DOWN within a second, the
 * layout has no horizontal scrollbar at 1,024, 1,400 and 1,920 px with the events column in
 * view, an admin drains and undrains while a non-admin cannot, and the page logs no console
 * errors. Screenshots go to test-results/; with `FLEETGATE_DOCS_SCREENSHOT=1` the one under load
 * also replaces docs/dashboard.png.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchedPage } from './support/browser.js';
import { FLEETGATE_ROOT, type GatewayProcess, startGateway } from './support/gateway-process.js';
import { type ServiceProcess, startServiceProcess } from './support/service-process.js';

const SHOTS = join(FLEETGATE_ROOT, 'test-results');
const TOKEN = 'dashboard-admin-token';
const ORDERS = [{ method: 'GET', path: '/api/orders/**' }];
const USERS = [{ method: 'GET', path: '/api/users/**' }];

/** Polls `check` every 50 ms until it holds, failing after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Numbers of a service's chart (`rps`, `p50`, `p99`, `errorRate`) as the page shows them. */
async function chart(page: Page, service: string, metric: string): Promise<{ last: number; peak: number }> {
  const fig = page.locator(`[data-service="${service}"] figure[data-metric="${metric}"]`);
  return {
    last: Number((await fig.getAttribute('data-last')) || 0),
    peak: Number((await fig.getAttribute('data-peak')) || 0),
  };
}

describe('gateway dashboard in a browser', () => {
  let browser: Browser | undefined;
  let gateway: GatewayProcess | undefined;
  const services: ServiceProcess[] = [];
  after(async () => {
    await browser?.close();
    for (const s of services) await s.kill();
    await gateway?.kill();
  });

  it('is live under load, shows a crash within a second, fits 1,024 px up, and drains for admins only', {
    timeout: 120_000,
  }, async (t) => {
    mkdirSync(SHOTS, { recursive: true });
    const gw = await startGateway({
      ADMIN_TOKEN: TOKEN,
      GATEWAY_NAME: 'edge-1',
      HEALTH_CHECK_INTERVAL: '200ms',
      HEALTH_CHECK_TIMEOUT: '1s',
      HEALTH_MAX_FAILURES: '1',
      HEALTH_DOWN_INTERVAL: '1s',
    });
    gateway = gw;
    for (const [service, label, routes] of [
      ['orders', 'orders-1', ORDERS],
      ['orders', 'orders-2', ORDERS],
      ['users', 'users-1', USERS],
    ] as const) {
      services.push(
        await startServiceProcess({ gateway: gw.url, service, label, instanceId: label, routes: [...routes] }),
      );
    }

    browser = await launchChromium();
    const { page, problems } = await watchedPage(browser, { width: 1400, height: 860 });

    await page.goto(`${gw.url}/_fleetgate/`);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
    for (const id of ['orders-1', 'orders-2', 'users-1'])
      await page.locator(`tr[data-instance="${id}"][data-registry="UP"]`).waitFor({ timeout: 10_000 });
    assert.match((await page.locator('header').textContent()) ?? '', /INMEMORY registry · gateway edge-1/);
    assert.equal((await chart(page, 'orders', 'rps')).peak, 0, 'no traffic yet');

    // A bounded load loop: 4 workers until the page shows the rate (or 40 s).
    let stop = false;
    let sent = 0;
    let failed = 0;
    const worker = async (n: number) => {
      const end = Date.now() + 40_000;
      for (let i = 0; !stop && Date.now() < end; i++) {
        const path = n % 4 === 3 ? `/api/users/${i}` : `/api/orders/${i}`;
        const res = await fetch(`${gw.url}${path}`).catch(() => undefined);
        await res?.arrayBuffer();
        sent++;
        if (res?.status !== 200) failed++;
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    try {
      await until(
        'the orders request rate to rise on the page',
        async () => (await chart(page, 'orders', 'rps')).last >= 5,
      );
      await until(
        'the users request rate to rise on the page',
        async () => (await chart(page, 'users', 'rps')).last >= 1,
      );
      await until('a p99 latency on the page', async () => (await chart(page, 'orders', 'p99')).last > 0);
      if (process.env.FLEETGATE_DOCS_SCREENSHOT === '1') {
        // For the docs picture, let the sparklines fill a few more seconds first (still bounded).
        await until(
          'eight seconds of orders traffic',
          async () =>
            page.evaluate(
              `document.querySelector('[data-service="orders"] figure[data-metric="p50"] polyline')?.getAttribute('points').split(' ').length >= 8`,
            ),
          15_000,
        );
      }
      await page.screenshot({ path: join(SHOTS, 'gateway-dashboard-load.png') });
      if (process.env.FLEETGATE_DOCS_SCREENSHOT === '1')
        copyFileSync(join(SHOTS, 'gateway-dashboard-load.png'), join(FLEETGATE_ROOT, 'docs', 'dashboard.png'));
      const total = await page.locator('[data-testid="total-rps"]').textContent();
      assert.match(total ?? '', /^[1-9]\d* req\/s$/);
    } finally {
      stop = true;
      await load;
    }
    assert.ok(sent > 0);
    assert.equal(failed, 0, 'every request of the load loop was served');
    const orders = await chart(page, 'orders', 'rps');
    assert.ok(orders.peak >= 5, `orders peak ${orders.peak} req/s`);
    assert.equal((await chart(page, 'orders', 'errorRate')).peak, 0);

    // No horizontal scrollbar, and the events column in view, at each width.
    for (const width of [1024, 1400, 1920]) {
      await page.setViewportSize({ width, height: 860 });
      await page.locator('#conn[data-state="live"]').waitFor();
      // Run in the page (a string, so this file needs no DOM types).
      const layout: { scrollWidth: number; clientWidth: number; right: number; width: number } = await page.evaluate(
        `(() => {
          const doc = document.documentElement;
          const events = document.getElementById('events-column').getBoundingClientRect();
          return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, right: events.right, width: events.width };
        })()`,
      );
      assert.ok(
        layout.scrollWidth <= layout.clientWidth,
        `${width} px: scrollWidth ${layout.scrollWidth} > clientWidth ${layout.clientWidth}`,
      );
      assert.ok(
        layout.right <= layout.clientWidth && layout.width >= 200,
        `${width} px: events column at ${JSON.stringify(layout)}`,
      );
      assert.ok(await page.locator('#events li').first().isVisible(), `${width} px: events visible`);
      await page.screenshot({ path: join(SHOTS, `gateway-dashboard-${width}.png`) });
    }
    await page.setViewportSize({ width: 1400, height: 860 });

    // A crash: the upstream process is killed, the health probe fails, the row turns DOWN.
    const victim = services[1]!;
    const killedAt = Date.now();
    await victim.kill();
    await page.locator('tr[data-instance="orders-2"][data-registry="DOWN"]').waitFor({ timeout: 5000 });
    const shownMs = Date.now() - killedAt;
    t.diagnostic(`crash shown after ${shownMs} ms; orders peak ${orders.peak} req/s; ${sent} requests sent`);
    assert.ok(shownMs <= 1000, `the crash showed after ${shownMs} ms`);
    await page
      .locator('#events li', { hasText: /orders-2.*UP → DOWN/ })
      .first()
      .waitFor({ timeout: 2000 });
    assert.equal(await page.locator('[data-service="orders"] [data-testid="up-count"]').textContent(), '1/2 UP');
    await page.screenshot({ path: join(SHOTS, 'gateway-dashboard-crash.png') });

    // A non-admin sees no drain buttons; a wrong token leaves the page read-only.
    assert.equal(await page.locator('button[data-action="drain"]').count(), 0);
    await page.fill('#admin-token', 'not-the-token');
    await page.click('#admin-unlock');
    await page.locator('#admin-state', { hasText: 'not admin' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('button[data-action="drain"]').count(), 0);
    const refused = await fetch(`${gw.url}/_fleetgate/api/drain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'orders', instance_id: 'orders-1', drain: true }),
    });
    assert.equal(refused.status, 401);

    // The admin unlocks with the token, drains orders-1 and undrains it.
    await page.fill('#admin-token', TOKEN);
    await page.click('#admin-unlock');
    await page.locator('#admin[data-state="admin"]').waitFor({ timeout: 5000 });
    await page.locator('tr[data-instance="orders-1"] button[data-action="drain"]').click();
    await page.locator('tr[data-instance="orders-1"][data-registry="DRAINING"]').waitFor({ timeout: 5000 });
    const listing = (await (await fetch(`${gw.url}/internal/services`)).json()) as {
      services: Record<string, { instances: Array<{ instance_id: string; status: string }> }>;
    };
    assert.equal(listing.services.orders?.instances.find((i) => i.instance_id === 'orders-1')?.status, 'DRAINING');
    await page.locator('tr[data-instance="orders-1"] button[data-action="undrain"]').click();
    await page.locator('tr[data-instance="orders-1"][data-registry="UP"]').waitFor({ timeout: 5000 });
    await page
      .locator('#events li', { hasText: /orders-1.*DRAINING → UP/ })
      .first()
      .waitFor({ timeout: 2000 });

    assert.deepEqual(problems, [], 'no console errors');
  });
});
