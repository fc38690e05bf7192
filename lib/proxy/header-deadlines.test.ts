import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { type DeadlineTarget, HeaderDeadlines } from './header-deadlines.js';

class Req implements DeadlineTarget {
  deadlineFifo: unknown = undefined;
  deadlineSlot = 0;
  timedOut = 0;
  headersTimedOut(): void {
    this.timedOut++;
  }
}

describe('HeaderDeadlines', () => {
  it('times out requests in order, on one timer, and skips cleared ones', async () => {
    const clock = new FakeClock();
    const d = new HeaderDeadlines(clock);
    const a = new Req();
    const b = new Req();
    const c = new Req();
    d.add(a, 300);
    await clock.advance(100);
    d.add(b, 300);
    d.add(c, 300);
    d.clear(b);
    assert.equal(d.pending, 2);
    assert.equal(clock.pending, 1, 'one timer for all');
    await clock.advance(199);
    assert.equal(a.timedOut, 0);
    await clock.advance(1);
    assert.equal(a.timedOut, 1);
    await clock.advance(100);
    assert.deepEqual([b.timedOut, c.timedOut], [0, 1]);
    assert.equal(d.pending, 0);
    assert.equal(clock.pending, 0, 'no timer when nothing waits');
  });

  it('a shorter timeout does not wait behind a longer one', async () => {
    const clock = new FakeClock();
    const d = new HeaderDeadlines(clock);
    const slow = new Req();
    const fast = new Req();
    d.add(slow, 30_000);
    d.add(fast, 100);
    await clock.advance(100);
    assert.equal(fast.timedOut, 1);
    assert.equal(slow.timedOut, 0);
    await clock.advance(29_900);
    assert.equal(slow.timedOut, 1);
  });

  it('lets finished requests go and compacts', async () => {
    const clock = new FakeClock();
    const d = new HeaderDeadlines(clock);
    const live = new Req();
    d.add(live, 1000);
    for (let i = 0; i < 5000; i++) {
      const r = new Req();
      d.add(r, 1000);
      d.clear(r);
    }
    assert.equal(d.pending, 1);
    await clock.advance(1000);
    assert.equal(live.timedOut, 1);
    d.close();
    d.add(new Req(), 10);
    assert.equal(clock.pending, 0);
  });
});
