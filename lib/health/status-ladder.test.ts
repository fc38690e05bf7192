import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  initialLadder,
  LADDER_DEFAULTS,
  type LadderState,
  ladderProblems,
  probeDelay,
  resumeLadder,
  stepLadder,
} from './status-ladder.js';

const O = LADDER_DEFAULTS;

function run(start: LadderState, outcomes: boolean[]) {
  let state = start;
  const trace: string[] = [];
  for (const ok of outcomes) {
    const step = stepLadder(state, ok, O);
    state = step.state;
    trace.push(
      `${state.status}/${state.consecutiveFailures}/${step.nextDelayMs ?? 'stop'}${step.transition ? ` ${step.transition.from}→${step.transition.to}` : ''}`,
    );
  }
  return { state, trace };
}

describe('status ladder', () => {
  it('has furt defaults, frozen', () => {
    assert.deepEqual({ ...O }, { intervalMs: 30_000, downIntervalMs: 120_000, maxFailures: 3, stopAfter: 10 });
    assert.ok(Object.isFrozen(O));
  });

  it('UP: 3 failures → DOWN, probed every 120 s, stops at the 10th failure', () => {
    const { state, trace } = run(initialLadder('UP'), Array(10).fill(false));
    assert.deepEqual(trace, [
      'UP/1/30000',
      'UP/2/30000',
      'DOWN/3/120000 UP→DOWN',
      'DOWN/4/120000',
      'DOWN/5/120000',
      'DOWN/6/120000',
      'DOWN/7/120000',
      'DOWN/8/120000',
      'DOWN/9/120000',
      'DOWN/10/stop',
    ]);
    assert.equal(state.stopped, true);
    assert.equal(probeDelay(state, O), undefined);
  });

  it('one success resets failures; UNKNOWN and DOWN become UP on the first success', () => {
    assert.deepEqual(run(initialLadder('UP'), [false, false, true, false, false]).trace, [
      'UP/1/30000',
      'UP/2/30000',
      'UP/0/30000',
      'UP/1/30000',
      'UP/2/30000',
    ]);
    assert.deepEqual(run(initialLadder(), [true]).trace, ['UP/0/30000 UNKNOWN→UP']);
    assert.deepEqual(run(initialLadder(), [false, false, false]).trace, [
      'UNKNOWN/1/30000',
      'UNKNOWN/2/30000',
      'DOWN/3/120000 UNKNOWN→DOWN',
    ]);
    assert.deepEqual(run(initialLadder('DOWN'), [false, true]).trace, ['DOWN/1/120000', 'UP/0/30000 DOWN→UP']);
  });

  it('resumeLadder clears failures and the stop, keeping or replacing the status', () => {
    const stopped = run(initialLadder('UP'), Array(10).fill(false)).state;
    assert.deepEqual(resumeLadder(stopped), { status: 'DOWN', consecutiveFailures: 0, stopped: false });
    assert.deepEqual(resumeLadder(stopped, 'UP'), { status: 'UP', consecutiveFailures: 0, stopped: false });
  });

  it('reports invalid options', () => {
    assert.deepEqual(ladderProblems(O), []);
    assert.deepEqual(ladderProblems({ ...O, intervalMs: 0, maxFailures: 1.5, stopAfter: 1 }), [
      'intervalMs must be a positive number',
      'maxFailures must be an integer ≥ 1',
      'stopAfter must be ≥ maxFailures',
    ]);
  });
});
