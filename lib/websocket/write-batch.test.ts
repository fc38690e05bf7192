import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { type CorkableSocket, WriteBatch } from './write-batch.js';

/** A stream that records each write it is asked to do, as a socket's system calls would be. */
function recordingStream(): { stream: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, calls };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteBatch', () => {
  it('sends the frames written in one turn as one write, once the turn is done', async () => {
    const { stream, calls } = recordingStream();
    const batch = new WriteBatch(stream);
    for (const frame of ['a', 'b', 'c']) {
      batch.hold();
      // What ws' sender does for one unmasked frame: its own cork around header and payload.
      stream.cork();
      stream.write(`${frame}-header`);
      stream.write(frame);
      stream.uncork();
    }
    assert.deepEqual(calls, [], 'nothing is written while the turn runs');
    assert.equal(batch.held, true);
    await Promise.resolve();
    assert.deepEqual(calls, [['a-header', 'a', 'b-header', 'b', 'c-header', 'c']]);
    assert.equal(batch.held, false);
  });

  it('starts a new batch in the next turn, and a lone frame is written at once after its turn', async () => {
    const { stream, calls } = recordingStream();
    const batch = new WriteBatch(stream);
    batch.hold();
    stream.write('first');
    await nextTurn();
    batch.hold();
    stream.write('second');
    await nextTurn();
    assert.deepEqual(calls, [['first'], ['second']]);
    assert.equal(stream.writableCorked, 0);
  });

  it('corks once per turn whatever the number of holds, and never uncorks more than it corked', async () => {
    const events: string[] = [];
    const socket: CorkableSocket = { cork: () => events.push('cork'), uncork: () => events.push('uncork') };
    const batch = new WriteBatch(socket);
    for (let i = 0; i < 5; i++) batch.hold();
    // A socket set while a batch is held is ignored: the pending uncork goes to the corked one.
    const other: CorkableSocket = { cork: () => events.push('other cork'), uncork: () => events.push('other uncork') };
    batch.attach(other);
    await nextTurn();
    batch.hold();
    await nextTurn();
    assert.deepEqual(events, ['cork', 'uncork', 'cork', 'uncork']);
  });

  it('does nothing until it has a socket (a link before its handshake)', async () => {
    const batch = new WriteBatch();
    batch.hold();
    assert.equal(batch.held, false);
    const { stream, calls } = recordingStream();
    batch.attach(stream);
    batch.hold();
    stream.write('x');
    stream.write('y');
    await nextTurn();
    assert.deepEqual(calls, [['x', 'y']]);
  });

  it('leaves a socket destroyed during the turn alone', async () => {
    const { stream, calls } = recordingStream();
    stream.on('error', () => {});
    const batch = new WriteBatch(stream);
    batch.hold();
    stream.write('lost');
    stream.destroy();
    await nextTurn();
    assert.deepEqual(calls, []);
    assert.equal(batch.held, false);
  });
});
