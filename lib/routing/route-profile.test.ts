import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Contribution, RouteProfile } from './route-profile.js';

describe('RouteProfile', () => {
  it('keeps the newest and the oldest member through joins in any order and leaves', () => {
    const profile = new RouteProfile([], new Map(), '[]');
    const live = new Map<string, Contribution>();
    let x = 11;
    const rand = (n: number) => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((x / 2_147_483_648) * n);
    };
    for (let seq = 1; seq <= 5000; seq++) {
      const id = `i${rand(300)}`;
      if (live.has(id) && rand(2) === 0) {
        profile.leave(id);
        live.delete(id);
      } else {
        // Mostly increasing registration times, sometimes older ones (a resync) and ties.
        const registeredAt = rand(5) === 0 ? rand(seq) : seq - rand(2);
        const c: Contribution = { instanceId: id, registeredAt, profile, seq };
        if (live.has(id)) profile.leave(id);
        profile.join(c);
        live.set(id, c);
      }
      const sorted = [...live.values()].sort((a, b) => a.registeredAt - b.registeredAt || a.seq - b.seq);
      assert.equal(profile.size, live.size);
      assert.equal(profile.oldest, sorted[0]);
      assert.equal(profile.newest, sorted.at(-1));
    }
  });

  it('is empty after its last member leaves, and leaving twice is harmless', () => {
    const profile = new RouteProfile([], new Map(), '[]');
    profile.join({ instanceId: 'a', registeredAt: 1, profile, seq: 1 });
    profile.leave('a');
    profile.leave('a');
    assert.equal(profile.size, 0);
    assert.equal(profile.newest, undefined);
    assert.equal(profile.oldest, undefined);
  });
});
