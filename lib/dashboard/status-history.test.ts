import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentEvents } from './recent-events.js';
import { StatusHistory } from './status-history.js';

describe('StatusHistory', () => {
  test('keeps changes, not repeats, and a window starts with the status in force', () => {
    const h = new StatusHistory();
    h.mark('s/a', 'UP', 1000);
    h.mark('s/a', 'UP', 2000);
    h.mark('s/a', 'DOWN', 5000);
    h.mark('s/a', 'UP', 8000);
    assert.deepEqual(h.window('s/a', 3000), [
      { at: 3000, status: 'UP' },
      { at: 5000, status: 'DOWN' },
      { at: 8000, status: 'UP' },
    ]);
    assert.deepEqual(h.window('s/other', 3000, 'UNKNOWN'), [{ at: 3000, status: 'UNKNOWN' }]);
    assert.deepEqual(h.window('s/other', 3000), []);
  });

  test('is bounded per instance and in instances', () => {
    const h = new StatusHistory({ maxMarks: 3, maxInstances: 2 });
    for (let i = 0; i < 10; i++) h.mark('s/a', i % 2 ? 'UP' : 'DOWN', i);
    assert.equal(h.window('s/a', -1).length, 3);
    h.mark('s/b', 'UP', 1);
    h.mark('s/c', 'UP', 1);
    assert.equal(h.size, 2);
    assert.deepEqual(h.window('s/a', -1), [], 'the oldest tracked instance was dropped');
    h.forget('s/b');
    assert.equal(h.size, 1);
  });
});

describe('RecentEvents', () => {
  test('keeps the last events, newest last', () => {
    const events = new RecentEvents(2);
    for (const message of ['a', 'b', 'c']) events.add({ at: 0, kind: 'registry', target: 't', level: 'info', message });
    assert.deepEqual(
      events.list().map((e) => e.message),
      ['b', 'c'],
    );
    assert.equal(events.version, 3);
  });
});
