/**
 * The bin's cap on V8's young generation (young-generation.ts). The growth it stops is V8's, so
 * each case runs a child process that allocates long-lived objects until V8 would have grown the
 * young generation to its 32 MB maximum, and reports the largest size it saw.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { youngGenerationSizedByUser } from './young-generation.js';

const MB = 1024 * 1024;

/**
 * Runs in the child: caps (or not), then keeps 400,000 small objects alive, 5,000 per turn of the
 * event loop (so the collections' performance entries are delivered, as between requests), and
 * prints the largest young generation seen and whether the cap ran.
 */
const CHILD = `
import { capYoungGeneration, youngGenerationBytes } from ${JSON.stringify(new URL('./young-generation.ts', import.meta.url).href)};
const cap = process.env.CAP === undefined ? undefined : capYoungGeneration(Number(process.env.CAP));
const keep = [];
let max = youngGenerationBytes();
for (let turn = 0; turn < 80; turn++) {
  for (let i = 0; i < 5000; i++) keep.push({ id: turn * 5000 + i, name: 'instance-' + i, routes: [turn, i] });
  max = Math.max(max, youngGenerationBytes());
  await new Promise((resolve) => setImmediate(resolve));
}
cap?.close();
console.log(JSON.stringify({ max, capped: cap !== undefined, kept: keep.length }));`;

function run(env: Record<string, string>, nodeArgs: string[] = []): { max: number; capped: boolean } {
  const out = execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out) as { max: number; capped: boolean };
}

describe('capYoungGeneration', () => {
  it('without the cap V8 grows the young generation past 16 MB (what the cap is for)', () => {
    const r = run({});
    assert.ok(r.max > 16 * MB, `grew to ${r.max / MB} MB`);
  });

  it('with a 4 MB cap the young generation stays within one doubling of it', () => {
    const r = run({ CAP: '4' });
    assert.ok(r.capped);
    assert.ok(r.max <= 8 * MB, `grew to ${r.max / MB} MB`);
  });

  it('a node command line that sizes the young generation wins: no cap', () => {
    const r = run({ CAP: '4' }, ['--max-semi-space-size=2']);
    assert.equal(r.capped, false);
    assert.ok(r.max <= 4 * MB, `the flag's own limit: ${r.max / MB} MB`);
  });

  it('recognises the sizing flags on the command line and in NODE_OPTIONS', () => {
    assert.equal(youngGenerationSizedByUser([], undefined), false);
    assert.equal(youngGenerationSizedByUser(['--max-old-space-size=512'], '--enable-source-maps'), false);
    assert.ok(youngGenerationSizedByUser(['--max-semi-space-size=4'], undefined));
    assert.ok(youngGenerationSizedByUser(['--min_semi_space_size=1'], undefined));
    assert.ok(youngGenerationSizedByUser([], '--semi-space-growth-factor=1 --enable-source-maps'));
  });
});
