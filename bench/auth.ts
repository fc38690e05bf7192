/**
 * Auth bench (issue #15: API key ≤ 5 µs, cached JWT verify ≤ 60 µs per request), in ONE run:
 *
 *   node --import tsx bench/auth.ts
 *
 * Part 1, the middlewares alone, in process: CPU µs per request of apiKeys() (memory store, the
 * route's permission resolved and enforced), jwtAuth() with a repeated token (the verified-token
 * cache) and with every token new (full jose verification: HS256, RS256, ES256), securityHeaders()
 * and cors(), each minus a no-op middleware on the same fake request. BENCH_ROUNDS (5) rounds
 * interleave the variants; each row prints the median and the range over the rounds.
 *
 * Part 2, side by side with the plain proxy: the fleetgate standalone proxy, the same behind
 * apiKeys(), and behind jwtAuth() (RS256 PEM, one token repeated), each in its own child
 * (bench/lib/proxy-servers.ts) under autocannon for BENCH_SECONDS (3) per round; the proxy's CPU
 * µs per request, and what auth adds (paired per round: median and range). BENCH_E2E=0 skips it.
 */
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { apiKeys } from '../lib/auth/api-keys.js';
import { jwtAuth } from '../lib/auth/jwt-auth.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { Registry } from '../lib/registry/registry.js';
import { RouteTable } from '../lib/routing/route-table.js';
import { cors } from '../lib/security/cors.js';
import { securityHeaders } from '../lib/security/security-headers.js';
import { runLoad, startChild } from './lib/load.js';
import { BENCH_API_KEY, BENCH_PATH } from './lib/proxy-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

type Mw = (req: never, res: never, next: () => void) => void;

interface Variant {
  label: string;
  iterations: number;
  /** Runs one request; resolves when the middleware passed it on. */
  one: () => void | Promise<void>;
}

const res = {
  setHeader() {},
  getHeader() {
    return undefined;
  },
  removeHeader() {},
};

function request(headers: Record<string, string>): never {
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(headers)) rawHeaders.push(k, v);
  return {
    method: 'GET',
    url: BENCH_PATH,
    headers: { ...headers },
    rawHeaders,
    socket: { remoteAddress: '127.0.0.1' },
  } as never;
}

function syncVariant(label: string, mw: Mw, headers: Record<string, string>, iterations: number): Variant {
  return {
    label,
    iterations,
    one: () => {
      let passed = false;
      mw(request(headers), res as never, () => {
        passed = true;
      });
      if (!passed) throw new Error(`${label}: the request was refused`);
    },
  };
}

function asyncVariant(label: string, mw: Mw, headers: () => Record<string, string>, iterations: number): Variant {
  return {
    label,
    iterations,
    one: () =>
      new Promise<void>((resolve, reject) => {
        const fail = { ...res, writeHead: () => reject(new Error(`${label}: refused`)), end() {} };
        mw(request(headers()), fail as never, () => resolve());
      }),
  };
}

/** CPU µs per request of `v` (process CPU, so crypto on the thread pool counts too). */
async function measure(v: Variant): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < v.iterations; i++) {
    const r = v.one();
    if (r !== undefined) await r;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / v.iterations;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (n: number) => n.toFixed(2).padStart(8);

async function middlewares(): Promise<void> {
  const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true, ttlMs: 24 * 3600_000 });
  await registry.ready();
  await registry.register({
    service: 'items',
    url: 'http://127.0.0.1:9',
    routes: [{ method: 'GET', path: '/api/items/:id', permission: 'items:read' }],
  });
  const table = new RouteTable({ registry });
  const secret = 'a-shared-secret-of-at-least-32-bytes!';
  const signers = new Map<string, { mw: Mw; sign: () => Promise<string> }>();
  signers.set('HS256', {
    mw: jwtAuth({ secret, verifiedCacheSize: 0 }) as Mw,
    sign: () => sign('HS256', new TextEncoder().encode(secret)),
  });
  for (const alg of ['RS256', 'ES256']) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    signers.set(alg, {
      mw: jwtAuth({ publicKey: await exportSPKI(publicKey), verifiedCacheSize: 0 }) as Mw,
      sign: () => sign(alg, privateKey),
    });
    if (alg === 'RS256') {
      signers.set('RS256 cached', {
        mw: jwtAuth({ publicKey: await exportSPKI(publicKey), routes: table }) as Mw,
        sign: () => sign(alg, privateKey),
      });
    }
  }
  const noop: Mw = (_req, _res, next) => next();
  const variants: Variant[] = [
    syncVariant('no-op middleware (baseline)', noop, { 'x-api-key': BENCH_API_KEY }, 50_000),
    syncVariant(
      'apiKeys(), memory store, route permission',
      apiKeys({ keys: [{ name: 'bench', key: BENCH_API_KEY, permissions: ['items:read'] }], routes: table }) as Mw,
      { 'x-api-key': BENCH_API_KEY },
      50_000,
    ),
    syncVariant('securityHeaders()', securityHeaders() as Mw, {}, 50_000),
    syncVariant(
      'cors(), allowed origin',
      cors({ origin: ['https://app.example'] }) as Mw,
      { origin: 'https://app.example' },
      50_000,
    ),
  ];
  const cached = signers.get('RS256 cached')!;
  const repeated = await cached.sign();
  // The first sight of the token is a full verification; from then on it is served from the cache.
  await new Promise<void>((resolve) =>
    cached.mw(request({ authorization: `Bearer ${repeated}` }), res as never, resolve),
  );
  variants.push(
    syncVariant('jwtAuth() RS256, token repeated (cached)', cached.mw, { authorization: `Bearer ${repeated}` }, 50_000),
  );
  for (const alg of ['HS256', 'RS256', 'ES256']) {
    const s = signers.get(alg)!;
    const tokens = await Promise.all(Array.from({ length: 2000 }, () => s.sign()));
    let i = 0;
    variants.push(
      asyncVariant(
        `jwtAuth() ${alg}, every token new (full verify)`,
        s.mw,
        () => ({ authorization: `Bearer ${tokens[i++ % tokens.length]}` }),
        2000,
      ),
    );
  }
  for (const v of variants) await measure({ ...v, iterations: Math.min(v.iterations, 2000) }); // warm-up
  const results = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const base = await measure(variants[0]!);
    results.get(variants[0]!.label)!.push(base);
    for (const v of variants.slice(1)) results.get(v.label)!.push((await measure(v)) - base);
  }
  console.log(
    `\nPart 1: middleware CPU µs per request (minus the no-op baseline), ${ROUNDS} rounds: median [min … max]`,
  );
  for (const [label, xs] of results) {
    console.log(`  ${label.padEnd(52)} ${fmt(median(xs))}  [${fmt(Math.min(...xs))} … ${fmt(Math.max(...xs))}]`);
  }
  await table.close();
  await registry.close();
}

async function sign(alg: string, key: Parameters<SignJWT['sign']>[0]): Promise<string> {
  return new SignJWT({ sub: `u-${Math.random().toString(36).slice(2)}`, roles: ['reader'], scope: 'items:read' })
    .setProtectedHeader({ alg })
    .setExpirationTime('2h')
    .sign(key);
}

async function endToEnd(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  process.env.BENCH_JWT_PUBLIC_KEY = await exportSPKI(publicKey);
  const token = await sign('RS256', privateKey);
  const upstream = await startChild('upstream');
  const kinds: [string, Record<string, string> | undefined][] = [
    ['fleetgate', undefined],
    ['fleetgate-apikey', { 'x-api-key': BENCH_API_KEY }],
    ['fleetgate-jwt', { authorization: `Bearer ${token}` }],
  ];
  const children = await Promise.all(kinds.map(([k]) => startChild(k, upstream.url)));
  try {
    const cpu = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
    const rps = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
    for (const [i, child] of children.entries()) {
      await runLoad(`${child.url}${BENCH_PATH}`, {
        connections: CONNECTIONS,
        seconds: 1,
        ...(kinds[i]![1] ? { headers: kinds[i]![1] } : {}),
      });
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, child] of children.entries()) {
        const before = await child.cpu();
        const load = await runLoad(`${child.url}${BENCH_PATH}`, {
          connections: CONNECTIONS,
          seconds: SECONDS,
          ...(kinds[i]![1] ? { headers: kinds[i]![1] } : {}),
        });
        if (load.errors > 0) throw new Error(`${child.kind}: ${load.errors} failed requests`);
        cpu.get(child.kind)!.push(((await child.cpu()) - before) / load.total);
        rps.get(child.kind)!.push(load.reqPerSec);
      }
    }
    console.log(
      `\nPart 2: proxy CPU µs per request, side by side, ${ROUNDS} rounds × ${SECONDS} s: median [min … max]`,
    );
    const plain = cpu.get('fleetgate')!;
    for (const [kind] of kinds) {
      const xs = cpu.get(kind)!;
      const added = xs.map((x, i) => x - plain[i]!);
      console.log(
        `  ${kind.padEnd(18)} ${fmt(median(xs))} µs [${fmt(Math.min(...xs))} … ${fmt(Math.max(...xs))}]  ` +
          `${median(rps.get(kind)!).toFixed(0).padStart(6)} req/s` +
          (kind === 'fleetgate'
            ? ''
            : `   added ${fmt(median(added))} µs [${fmt(Math.min(...added))} … ${fmt(Math.max(...added))}]`),
      );
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await upstream.stop();
  }
}

await middlewares();
if (process.env.BENCH_E2E !== '0') await endToEnd();
