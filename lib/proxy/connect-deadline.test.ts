import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { buildConnector } from 'undici';
import { FakeClock } from '../clock.js';
import { startBlackhole } from '../test-support/blackhole.js';
import { listen, type TestServer } from '../test-support/http-test-kit.js';
import { connectorWithDeadline } from './connect-deadline.js';

type Outcome = { err: (Error & { code?: string }) | null; socket: Socket | null };

function connectTo(
  connect: buildConnector.connector,
  port: number,
): { outcome: Promise<Outcome>; settled: () => boolean } {
  let done = false;
  const outcome = new Promise<Outcome>((resolve) => {
    connect({ hostname: '127.0.0.1', host: `127.0.0.1:${port}`, protocol: 'http:', port: String(port) }, (...args) => {
      done = true;
      resolve({ err: args[0], socket: args[1] as Socket | null });
    });
  });
  return { outcome, settled: () => done };
}

describe('connectorWithDeadline', () => {
  let live: TestServer;

  before(async () => {
    live = await listen((_req, res) => res.end('ok'));
  });

  after(async () => {
    await live.close();
  });

  test('fails with UND_ERR_CONNECT_TIMEOUT exactly when the fake clock reaches the deadline', async () => {
    await using dark = await startBlackhole();
    const clock = new FakeClock();
    const attempt = connectTo(connectorWithDeadline(2000, clock), dark.port);
    await clock.advance(1999);
    assert.equal(attempt.settled(), false, 'still connecting 1 ms before the deadline');
    await clock.advance(1);
    const { err, socket } = await attempt.outcome;
    assert.equal(err?.code, 'UND_ERR_CONNECT_TIMEOUT');
    assert.match(err!.message, /took longer than 2000 ms/);
    assert.equal(socket, null);
    assert.equal(clock.pending, 0);
  });

  test('a connect that succeeds cancels its timer and hands over the socket', async () => {
    const clock = new FakeClock();
    const { outcome } = connectTo(connectorWithDeadline(2000, clock), live.port);
    const { err, socket } = await outcome;
    assert.equal(err, null);
    assert.ok(socket !== null && !socket.destroyed);
    assert.equal(clock.pending, 0, 'no timer left behind');
    socket.destroy();
  });

  test('a refused connect passes its own error through at once', async () => {
    const closed = await listen(() => {});
    const port = closed.port;
    await closed.close();
    const clock = new FakeClock();
    const { err } = (await connectTo(connectorWithDeadline(2000, clock), port).outcome) as Outcome;
    assert.equal(err?.code, 'ECONNREFUSED');
    assert.equal(clock.pending, 0);
  });
});
