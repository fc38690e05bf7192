import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../clock.js';
import { loopTurns, StallingClock, track } from '../test-support/deadline-kit.js';
import { withDeadline } from './store-deadline.js';

describe('withDeadline', () => {
  test('an answer that arrives before the deadline wins', async () => {
    const clock = new FakeClock();
    let answer: (v: string) => void = () => {};
    const state = track(withDeadline(clock, 500, () => new Promise<string>((r) => (answer = r)), 'PING'));
    await clock.advance(499);
    answer('PONG');
    await clock.advance(1);
    assert.equal(state(), 'resolved PONG');
    assert.equal(clock.pending, 0, 'the deadline timer is cancelled');
  });

  test('no answer: rejects once the deadline passed and the loop turned', async () => {
    const clock = new FakeClock();
    const state = track(withDeadline(clock, 500, () => new Promise<string>(() => {}), 'PING'));
    await clock.advance(499);
    assert.equal(state(), 'pending');
    await clock.advance(1);
    assert.equal(state(), 'rejected PING: no answer within 500 ms');
  });

  test('a stalled loop: the answer read in the same loop turn the deadline fires in still wins', async () => {
    const clock = new FakeClock();
    let answer: (v: string) => void = () => {};
    const state = track(withDeadline(clock, 500, () => new Promise<string>((r) => (answer = r)), 'PING'));
    await clock.advance(0); // the call is sent
    // The loop was busy past the deadline: its timer runs first, then the poll phase reads the
    // answer that has been waiting in the socket. advance() fires the timer synchronously.
    const advancing = clock.advance(500);
    answer('PONG');
    await advancing;
    assert.equal(state(), 'resolved PONG');
  });

  test('a stalled loop: an answer delivered one setImmediate later (as grpc-js does) still wins', async () => {
    const clock = new FakeClock();
    let answer: (v: string) => void = () => {};
    const state = track(withDeadline(clock, 500, () => new Promise<string>((r) => (answer = r)), 'range'));
    await clock.advance(0);
    const advancing = clock.advance(500);
    setImmediate(() => answer('ok'));
    await advancing;
    assert.equal(state(), 'resolved ok');
  });

  test('a failure of the call is passed on, and a late failure after the deadline is handled', async () => {
    const clock = new FakeClock();
    const refused = track(withDeadline(clock, 500, () => Promise.reject(new Error('NOAUTH')), 'PING'));
    await clock.advance(0);
    assert.equal(refused(), 'rejected NOAUTH');
    let fail: (e: Error) => void = () => {};
    const late = track(withDeadline(clock, 500, () => new Promise<string>((_, r) => (fail = r)), 'PING'));
    await clock.advance(500);
    assert.equal(late(), 'rejected PING: no answer within 500 ms');
    fail(new Error('connection closed')); // no unhandled rejection
    await clock.advance(0);
  });
});

describe('withDeadline across a stalled loop', () => {
  test('a deadline timer that fires more than ms/2 late gives the call one fresh window', async () => {
    const clock = new StallingClock();
    let answer: (v: string) => void = () => {};
    const state = track(withDeadline(clock, 500, () => new Promise<string>((r) => (answer = r)), 'PING'));
    clock.fire(1800); // due at 500, the loop was held until 1800: the call may not even be written
    await loopTurns(3);
    assert.equal(state(), 'pending');
    assert.equal(clock.timers.length, 1, 're-armed once');
    answer('PONG');
    await loopTurns(1);
    assert.equal(state(), 'resolved PONG');
  });

  test('once only: a store that still does not answer after the fresh window fails', async () => {
    const clock = new StallingClock();
    const state = track(withDeadline(clock, 500, () => new Promise<string>(() => {}), 'PING'));
    clock.fire(1800);
    clock.fire(5000); // late again: no second extension
    await loopTurns(3);
    assert.equal(state(), 'rejected PING: no answer within 500 ms');
  });

  test('a timer late by less than ms/2 is a plain deadline', async () => {
    const clock = new StallingClock();
    const state = track(withDeadline(clock, 500, () => new Promise<string>(() => {}), 'PING'));
    clock.fire(700);
    await loopTurns(3);
    assert.equal(state(), 'rejected PING: no answer within 500 ms');
  });
});
