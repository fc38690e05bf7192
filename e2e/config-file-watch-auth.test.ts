/**
 * Two behaviours of the bin's `fleetgate.yaml` not covered by config-file-bin.test.ts:
 * - reload on file change (no SIGHUP): a new valid file brings its route in without one failed
 *   request under load; an invalid one is refused, the log says why and the old routes serve on;
 * - API keys and JWT together: a route's `permission` is reachable with only an API key that holds
 *   it (the key decides permissions; a token is optional but still verified when sent).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startGateway } from './support/gateway-process.js';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An upstream answering with its label. */
async function labelled(label: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) =>
    res.end(JSON.stringify({ upstream: label, apiKeyName: req.headers['x-api-key-name'] ?? null })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('fleetgate.yaml: reload on file change; API keys with JWT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-watch-'));
  const servers: Server[] = [];
  const up: Record<string, string> = {};

  before(async () => {
    for (const label of ['one', 'two', 'comments']) {
      const u = await labelled(label);
      servers.push(u.server);
      up[label] = u.url;
    }
  });

  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads when the file changes: a new route with zero failed requests, an invalid file refused', async () => {
    const path = join(dir, 'watch.yaml');
    const routes = (extra = '') => `routes:\n  - { path: /one/**, target: "${up.one}" }\n${extra}`;
    writeFileSync(path, routes());
    await using gw = await startGateway({ FLEETGATE_CONFIG: path });
    const upstreamOf = async (p: string): Promise<string | undefined> => {
      const res = await fetch(`${gw.url}${p}`);
      const text = await res.text();
      return res.status === 200 ? (JSON.parse(text) as { upstream: string }).upstream : undefined;
    };
    assert.equal(await upstreamOf('/one/a'), 'one');
    assert.equal(await upstreamOf('/two/a'), undefined);

    let failures = 0;
    let served = 0;
    let loading = true;
    const worker = async (): Promise<void> => {
      while (loading) {
        const r = await fetch(`${gw.url}/one/a`).catch(() => undefined);
        if (r?.status === 200) served++;
        else failures++;
        await r?.arrayBuffer().catch(() => undefined);
      }
    };
    const load = Promise.all([worker(), worker(), worker()]);
    try {
      await until(async () => served > 30, 20_000, 'load to start');
      // No signal: only the write.
      writeFileSync(path, routes(`  - { path: /two/**, target: "${up.two}" }\n`));
      await until(async () => (await upstreamOf('/two/a')) === 'two', 20_000, 'the route of the new file');
      const atReload = served;
      await until(async () => served > atReload + 30, 20_000, 'load after the reload');
    } finally {
      loading = false;
      await load;
    }
    assert.equal(failures, 0, `${failures} failed of ${served + failures}`);

    // An invalid file (a misspelt key) is refused with the line and key; the old routes keep serving.
    writeFileSync(path, routes(`  - { path: /three/**, target: "${up.two}", stripPrefx: /three }\n`));
    await until(
      async () => /config reload \(file change\) refused/.test(gw.output()),
      20_000,
      'the refusal in the log',
    );
    assert.match(gw.output(), /watch\.yaml:\d+ .*stripPrefx/);
    assert.equal(await upstreamOf('/one/a'), 'one');
    assert.equal(await upstreamOf('/two/a'), 'two');
    assert.equal(await upstreamOf('/three/a'), undefined);
    assert.equal(gw.running, true);
  });

  it('with apiKeys and jwt both configured, a permission route takes an API key alone', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!';
    const path = join(dir, 'auth.yaml');
    writeFileSync(
      path,
      `
apiKeys:
  keys:
    - { name: reader, key: reader-key-0123456789, permissions: ["comments:read"] }
    - { name: other, key: other-key-0123456789, permissions: ["shop:read"] }
jwt:
  secret: "${secret}"
  audience: fleet-api
routes:
  - { path: /comments/**, target: "${up.comments}", permission: "comments:read" }
`,
    );
    await using gw = await startGateway({ FLEETGATE_CONFIG: path });
    const call = async (headers: Record<string, string>) => {
      const res = await fetch(`${gw.url}/comments/1`, { headers });
      return { status: res.status, text: await res.text() };
    };
    const sign = (aud: string) =>
      new SignJWT({ scope: 'comments:read' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('user-1')
        .setAudience(aud)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));

    // Only an API key holding the permission: served, and the upstream learns the key's name.
    const keyOnly = await call({ 'x-api-key': 'reader-key-0123456789' });
    assert.equal(keyOnly.status, 200, keyOnly.text);
    assert.equal(JSON.parse(keyOnly.text).apiKeyName, 'reader');
    // A key without the permission: 403. No credential: 401.
    const wrongKey = await call({ 'x-api-key': 'other-key-0123456789' });
    assert.equal(wrongKey.status, 403);
    assert.match(wrongKey.text, /ERR_FG_FORBIDDEN/);
    const none = await call({});
    assert.equal(none.status, 401);
    assert.match(none.text, /ERR_FG_UNAUTHENTICATED/);
    // A token is optional but still verified when sent: a wrong audience is refused even with a good key.
    const badToken = await call({
      'x-api-key': 'reader-key-0123456789',
      authorization: `Bearer ${await sign('someone-else')}`,
    });
    assert.equal(badToken.status, 401);
    assert.match(badToken.text, /ERR_FG_UNAUTHENTICATED/);
    const both = await call({
      'x-api-key': 'reader-key-0123456789',
      authorization: `Bearer ${await sign('fleet-api')}`,
    });
    assert.equal(both.status, 200, both.text);
    // A token alone does not stand in for the key: the permission is the key's to check.
    const tokenOnly = await call({ authorization: `Bearer ${await sign('fleet-api')}` });
    assert.equal(tokenOnly.status, 401);
  });
});
