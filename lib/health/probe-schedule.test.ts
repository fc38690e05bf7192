import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { ProbeSchedule, type ScheduleSlot } from './probe-schedule.js';

interface Item extends ScheduleSlot {
  name: string;
}

const item = (name: string): Item => ({ name, due: 0, seq: 0, slot: -1 });

function schedule(clock: FakeClock) {
  const fired: string[] = [];
  const s = new ProbeSchedule<Item>(clock, (i) => fired.push(`${i.name}@${clock.now()}`));
  return { s, fired };
}

describe('ProbeSchedule', () => {
  it('fires each item at its due time, ties in scheduling order, on one clock timer', async () => {
    const clock = new FakeClock(0);
    const { s, fired } = schedule(clock);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item);
    s.add(c!, 300);
    s.add(a!, 100);
    s.add(b!, 300);
    s.add(d!, 0);
    assert.equal(clock.pending, 1);
    assert.equal(s.size, 4);
    await clock.advance(299);
    assert.deepEqual(fired, ['d@0', 'a@100']);
    await clock.advance(1);
    assert.deepEqual(fired, ['d@0', 'a@100', 'c@300', 'b@300']);
    assert.equal(s.size, 0);
    assert.equal(clock.pending, 0, 'no timer once nothing is scheduled');
  });

  it('re-scheduling replaces the earlier time; cancel and clear unschedule; an earlier item re-arms the timer', async () => {
    const clock = new FakeClock(0);
    const { s, fired } = schedule(clock);
    const [a, b, c] = ['a', 'b', 'c'].map(item);
    s.add(a!, 1000);
    s.add(b!, 2000);
    s.add(a!, 3000); // replaces a@1000
    s.add(c!, 500); // earlier than the armed timer
    assert.equal(s.size, 3);
    s.cancel(b!);
    s.cancel(b!); // twice is harmless
    assert.equal(b!.slot, -1);
    await clock.advance(5000);
    assert.deepEqual(fired, ['c@500', 'a@3000']);
    s.add(a!, 10);
    s.add(b!, 20);
    s.clear();
    assert.equal(clock.pending, 0);
    await clock.advance(100);
    assert.equal(fired.length, 2);
  });

  it('an item scheduled again from its own callback waits for its new time', async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    const a = item('a');
    const s = new ProbeSchedule<Item>(clock, (i) => {
      times.push(clock.now());
      if (times.length < 4) s.add(i, times.length === 1 ? 0 : 50);
    });
    s.add(a, 10);
    await clock.advance(1000);
    assert.deepEqual(times, [10, 10, 60, 110]);
  });

  it('keeps heap order through many random adds and cancels', async () => {
    const clock = new FakeClock(0);
    const { s, fired } = schedule(clock);
    const items = Array.from({ length: 200 }, (_, i) => item(String(i)));
    let x = 7;
    const rand = () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return x / 2_147_483_648;
    };
    const expected = new Map<string, number>();
    for (let round = 0; round < 1000; round++) {
      const it = items[Math.floor(rand() * items.length)]!;
      if (rand() < 0.3) {
        s.cancel(it);
        expected.delete(it.name);
      } else {
        const delay = Math.floor(rand() * 1000);
        s.add(it, delay);
        expected.set(it.name, delay);
      }
    }
    await clock.advance(1000);
    const want = [...expected]
      .map(([name, at]) => ({ name, at, seq: items[Number(name)]!.seq }))
      .sort((p, q) => p.at - q.at || p.seq - q.seq)
      .map((e) => `${e.name}@${e.at}`);
    assert.deepEqual(fired, want);
  });
});

describe('ProbeSchedule with a granularity', () => {
  it('wakes on multiples of it and fires everything due by then: never before its time, less than it late', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const s = new ProbeSchedule<Item>(clock, (i) => fired.push(`${i.name}@${clock.now()}`), 1000);
    const dues = [10, 300, 999, 1000, 1001, 2500, 2999];
    const items = dues.map((_, k) => item(`i${k}`));
    for (const [k, at] of dues.entries()) s.add(items[k]!, at);
    assert.equal(clock.pending, 1);
    await clock.advance(999);
    assert.deepEqual(fired, [], 'nothing fires before the wake-up');
    await clock.advance(1);
    assert.deepEqual(fired, ['i0@1000', 'i1@1000', 'i2@1000', 'i3@1000']);
    await clock.advance(999);
    assert.equal(fired.length, 4);
    await clock.advance(1);
    assert.deepEqual(fired.slice(4), ['i4@2000']);
    await clock.advance(1000);
    assert.deepEqual(fired.slice(5), ['i5@3000', 'i6@3000']);
    // Three wake-ups for seven items; each fired at or after its due time and less than 1000 ms after it.
    for (const [k, entry] of fired.entries()) {
      const at = Number(String(entry).split('@')[1]);
      assert.ok(at >= dues[k]! && at - dues[k]! < 1000, entry);
    }
    assert.equal(clock.pending, 0);
  });

  it('an item due earlier than the armed wake-up re-arms for its own multiple', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const s = new ProbeSchedule<Item>(clock, (i) => fired.push(`${i.name}@${clock.now()}`), 100);
    const [a, b] = ['a', 'b'].map(item);
    s.add(a!, 950);
    s.add(b!, 120);
    assert.equal(clock.pending, 1);
    await clock.advance(200);
    assert.deepEqual(fired, ['b@200']);
    await clock.advance(800);
    assert.deepEqual(fired, ['b@200', 'a@1000']);
  });

  it('refuses a negative or non-finite granularity', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new ProbeSchedule<Item>(new FakeClock(0), () => {}, bad), RangeError);
    }
  });
});
