import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Clock, FakeClock } from '../clock.js';
import { loopTurns, StallingClock, track } from '../test-support/deadline-kit.js';
import { CallDeadlines } from './call-deadlines.js';

/** A call that answers only when told to. */
function answerable<T>(): { op: () => Promise<T>; answer: (v: T) => void; fail: (e: Error) => void } {
  const r = { answer: (_v: T) => {}, fail: (_e: Error) => {} };
  const op = () =>
    new Promise<T>((resolve, reject) => {
      r.answer = resolve;
      r.fail = reject;
    });
  return { op, answer: (v) => r.answer(v), fail: (e) => r.fail(e) };
}

describe('CallDeadlines', () => {
  test('an answer that arrives before the deadline wins, and the call leaves the list', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'memory store');
    const call = answerable<string>();
    const state = track(d.run(call.op));
    await clock.advance(499);
    call.answer('ok');
    await clock.advance(1);
    assert.equal(state(), 'resolved ok');
    assert.equal(d.inFlight, 0);
  });

  test('no answer: rejects at the deadline, after the loop turned, with the coded message', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'memory store');
    const state = track(d.run(() => new Promise<string>(() => {})));
    await clock.advance(499);
    assert.equal(state(), 'pending');
    await clock.advance(1);
    assert.equal(state(), 'rejected memory store: no answer within 500 ms');
  });

  test('many calls in flight share one timer, and each fails at its own deadline', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const first = track(d.run(() => new Promise<string>(() => {})));
    await clock.advance(100);
    const answered = answerable<string>();
    const second = track(d.run(answered.op));
    await clock.advance(100);
    const third = track(d.run(() => new Promise<string>(() => {})));
    assert.equal(clock.pending, 1, 'one timer for three calls');
    assert.equal(d.inFlight, 3);
    answered.answer('ok');
    await clock.advance(300); // t = 500: the first call's deadline
    assert.equal(first(), 'rejected redis store: no answer within 500 ms');
    assert.equal(second(), 'resolved ok');
    assert.equal(third(), 'pending');
    await clock.advance(199); // t = 699
    assert.equal(third(), 'pending');
    await clock.advance(1); // t = 700: the third call's deadline
    assert.equal(third(), 'rejected redis store: no answer within 500 ms');
    assert.equal(d.inFlight, 0);
  });

  test('overlapping calls answered in time share one timer; none is left once they all settled', async () => {
    const clock = new FakeClock();
    let armed = 0;
    const counting: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        armed++;
        return clock.setTimeout(fn, ms);
      },
      setInterval: (fn, ms) => clock.setInterval(fn, ms),
    };
    const d = new CallDeadlines(counting, 500, 'memory store');
    const calls = Array.from({ length: 1000 }, () => answerable<number>());
    const results = calls.map((c) => d.run(c.op));
    for (const [i, c] of calls.entries()) c.answer(i);
    assert.deepEqual(await Promise.all(results), [...calls.keys()]);
    assert.equal(armed, 1, 'one timer for 1000 calls');
    assert.equal(clock.pending, 0, 'cancelled with the last call');
  });

  test('a stalled loop: an answer read in the turn the deadline fires in, or one setImmediate later, still wins', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'etcd store');
    const a = answerable<string>();
    const b = answerable<string>();
    const first = track(d.run(a.op));
    const second = track(d.run(b.op));
    await clock.advance(0);
    const advancing = clock.advance(500);
    a.answer('now');
    setImmediate(() => b.answer('later'));
    await advancing;
    assert.equal(first(), 'resolved now');
    assert.equal(second(), 'resolved later');
  });

  test('failAll fails every call in flight at once, also one past its deadline; late answers are dropped', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const a = answerable<string>();
    const first = track(d.run(a.op));
    const second = track(d.run(() => new Promise<string>(() => {})));
    d.failAll(new Error('the redis store is down'));
    await clock.advance(0);
    assert.equal(first(), 'rejected the redis store is down');
    assert.equal(second(), 'rejected the redis store is down');
    a.answer('late'); // dropped
    a.fail(new Error('closed')); // handled, no unhandled rejection
    await clock.advance(1000);
    assert.equal(d.inFlight, 0);
  });

  test('a failure of the call is passed on, a synchronous throw too', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const refused = track(d.run(() => Promise.reject(new Error('NOAUTH'))));
    const thrown = track(
      d.run((): Promise<string> => {
        throw new Error('bad call');
      }),
    );
    await clock.advance(0);
    assert.equal(refused(), 'rejected NOAUTH');
    assert.equal(thrown(), 'rejected bad call');
  });

  test('close leaves calls in flight their deadline', async () => {
    const clock = new FakeClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    await d.run(async () => 1);
    assert.equal(clock.pending, 0, 'no timer while idle');
    const hung = track(d.run(() => new Promise<string>(() => {})));
    d.close();
    await clock.advance(500);
    assert.equal(hung(), 'rejected redis store: no answer within 500 ms');
  });
});

describe('CallDeadlines across a stalled loop', () => {
  test('a timer that fires more than ms/2 late gives each call due then one fresh window', async () => {
    const clock = new StallingClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const a = answerable<string>();
    const first = track(d.run(a.op));
    clock.time = 100;
    const second = track(d.run(() => new Promise<string>(() => {})));
    clock.fire(1800); // due at 500 and 600, the loop was held until 1800
    await loopTurns(3);
    assert.equal(first(), 'pending');
    assert.equal(second(), 'pending');
    assert.equal(clock.timers.length, 1, 're-armed once for both');
    a.answer('PONG');
    await loopTurns(1);
    assert.equal(first(), 'resolved PONG');
    clock.fire(2300);
    await loopTurns(3);
    assert.equal(second(), 'rejected redis store: no answer within 500 ms');
  });

  test('once only: a call that still has no answer after the fresh window fails', async () => {
    const clock = new StallingClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const state = track(d.run(() => new Promise<string>(() => {})));
    clock.fire(1800);
    clock.fire(5000); // late again: no second extension
    await loopTurns(3);
    assert.equal(state(), 'rejected redis store: no answer within 500 ms');
  });

  test('a timer late by less than ms/2 is a plain deadline', async () => {
    const clock = new StallingClock();
    const d = new CallDeadlines(clock, 500, 'redis store');
    const state = track(d.run(() => new Promise<string>(() => {})));
    clock.fire(700);
    await loopTurns(3);
    assert.equal(state(), 'rejected redis store: no answer within 500 ms');
  });
});
