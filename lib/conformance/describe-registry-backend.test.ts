import assert from 'node:assert/strict';
import * as nodeTest from 'node:test';
import { MemoryBackend } from '../registry/backends/memory.js';
import { type ConformanceRunner, conformanceCases, describeRegistryBackend } from './index.js';
import { waitFor } from './wait-for.js';

// A vitest-style runner (it(name, fn, timeout), fn called with a context argument) mapped onto
// node:test, so the suite is shown to depend on nothing but describe/it.
const calls: { kind: string; name: string; timeout?: number }[] = [];
const runner: ConformanceRunner = {
  describe: Object.assign((name: string, fn: () => void) => nodeTest.describe(name, fn), {
    skip: (name: string) => calls.push({ kind: 'skip', name }),
  }),
  it: (name, fn, timeout) => {
    calls.push({ kind: 'it', name, ...(timeout === undefined ? {} : { timeout }) });
    return nodeTest.it(name, () => (fn as (ctx: unknown) => Promise<void>)({ task: name }));
  },
};

let built = 0;
describeRegistryBackend(
  'memory, through an injected runner',
  () => {
    built++;
    return new MemoryBackend();
  },
  { runner, ttlMs: 500, expiryGraceMs: 2000, timeoutMs: 10_000, peer: (first) => first },
);
describeRegistryBackend('never built', () => assert.fail('a skipped suite must not build backends'), {
  runner,
  skip: 'no store here',
});

nodeTest.describe('describeRegistryBackend', () => {
  nodeTest.it('registers every case with the runner, with a timeout, and skips through describe.skip', () => {
    const its = calls.filter((c) => c.kind === 'it');
    assert.deepEqual(
      its.map((c) => c.name),
      conformanceCases.map((c) => c.name),
    );
    assert.equal(its[0]?.name, 'implements the interface');
    assert.ok(its.every((c) => c.timeout === 11_000));
    assert.deepEqual(
      calls.filter((c) => c.kind === 'skip').map((c) => c.name),
      ['registry backend conformance: never built (skipped: no store here)'],
    );
  });

  nodeTest.it('built one fresh backend per case', async () => {
    await waitFor(() => built >= conformanceCases.length, { timeoutMs: 30_000 });
  });
});

nodeTest.describe('waitFor', () => {
  nodeTest.it('returns the first truthy value and times out naming the condition', async () => {
    let n = 0;
    assert.equal(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 }), 3);
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('boom');
        },
        { timeoutMs: 30, intervalMs: 5, description: 'the moon' },
      ),
      (err: Error) => /the moon/.test(err.message) && (err.cause as Error).message === 'boom',
    );
  });
});
