import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { createNetns, netnsSkipReason } from './netns.js';
import { waitUntil } from './wait.js';

const skip = await netnsSkipReason();
if (skip !== undefined) console.log(`netns: skipped: ${skip}`);

/** Settles with what happened to `socket` first, or 'nothing' after `ms` (a quiet span is the assertion). */
function firstEvent(socket: net.Socket, events: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('nothing'), ms);
    for (const e of events)
      socket.once(e, () => {
        clearTimeout(timer);
        resolve(e);
      });
  });
}

describe('createNetns', { skip }, () => {
  test('a cut link drops packets both ways (no RST), heal restores it, close deletes everything', async () => {
    const ns = await createNetns();
    const echo = spawn('ip', [
      ...['netns', 'exec', ns.name, process.execPath, '-e'],
      `require('node:net').createServer((s) => s.pipe(s)).listen(7000, '${ns.innerAddress}', () => console.log('up'))`,
    ]);
    try {
      await once(echo.stdout!, 'data');
      const socket = net.connect(7000, ns.innerAddress);
      await once(socket, 'connect');
      socket.write('a');
      await once(socket, 'data');
      await ns.cut();
      assert.equal(ns.isCut, true);
      socket.write('b');
      // Neither an answer nor a reset: the connection just goes quiet.
      assert.equal(await firstEvent(socket, ['data', 'error', 'close'], 500), 'nothing');
      const fresh = net.connect(7000, ns.innerAddress);
      fresh.on('error', () => {});
      assert.equal(await firstEvent(fresh, ['connect', 'error'], 500), 'nothing');
      fresh.destroy();
      await ns.heal();
      // The queued byte arrives once the link carries packets again (TCP retransmits it).
      await waitUntil(() => socket.bytesRead >= 2, { timeoutMs: 15_000, description: 'the echo after healing' });
      socket.destroy();
    } finally {
      echo.kill('SIGKILL');
      await ns.close();
    }
    const left = execFileSync('ip', ['netns', 'list']).toString();
    assert.ok(!left.includes(ns.name), `namespace ${ns.name} deleted`);
    assert.ok(
      !execFileSync('ip', ['-o', 'link'])
        .toString()
        .includes(`fgo${ns.name.slice(4)}`),
      'veth deleted',
    );
  });
});
