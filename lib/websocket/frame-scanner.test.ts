import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import * as wsModule from 'ws';
import { closeFrame, FrameScanner, pingFrame } from './frame-scanner.js';

/** ws's own frame parser (exported at run time, not in @types/ws): the reference our frames must satisfy. */
const Receiver = (
  wsModule as unknown as { Receiver: new (o: { isServer: boolean }) => EventEmitter & { write(b: Buffer): void } }
).Receiver;

/** Encodes frames per RFC 6455 §5.2 (masked = client → server). */
function frames(messages: { data: Buffer | string; opcode?: number; fin?: boolean }[], masked: boolean): Buffer {
  const out: Buffer[] = [];
  for (const m of messages) {
    const data = typeof m.data === 'string' ? Buffer.from(m.data) : m.data;
    const len = data.length;
    const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
    head[0] = ((m.fin ?? true) ? 0x80 : 0) | (m.opcode ?? 1);
    head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
    if (ext === 2) head.writeUInt16BE(len, 2);
    if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
    const payload = Buffer.from(data);
    if (masked) {
      const key = [1, 2, 3, 4];
      head.set(key, 2 + ext);
      for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    }
    out.push(head, payload);
  }
  return Buffer.concat(out);
}

describe('FrameScanner', () => {
  it('counts messages and finds boundaries in frames of every length encoding', () => {
    for (const masked of [false, true]) {
      const stream = frames(
        [{ data: 'a' }, { data: Buffer.alloc(300) }, { data: Buffer.alloc(70_000), opcode: 2 }],
        masked,
      );
      const scan = new FrameScanner();
      assert.equal(scan.push(stream), 0);
      assert.equal(scan.messages, 3);
      assert.equal(scan.atBoundary, true);
    }
  });

  it('follows frames split at every byte', () => {
    const stream = frames([{ data: 'hello' }, { data: Buffer.alloc(200) }, { data: Buffer.alloc(66_000) }], true);
    const scan = new FrameScanner();
    for (let i = 0; i < stream.length; i++) {
      assert.equal(scan.push(stream.subarray(i, i + 1)), 0);
    }
    assert.equal(scan.messages, 3);
    assert.equal(scan.atBoundary, true);
    // Mid-frame is not a boundary.
    const half = new FrameScanner();
    half.push(stream.subarray(0, 4));
    assert.equal(half.atBoundary, false);
  });

  it('sums fragments against maxPayload and counts a fragmented message once', () => {
    const scan = new FrameScanner(100);
    const ok = frames(
      [
        { data: Buffer.alloc(60), fin: false },
        { data: 'p', opcode: 0x9 },
        { data: Buffer.alloc(40), opcode: 0 },
      ],
      true,
    );
    assert.equal(scan.push(ok), 0);
    assert.equal(scan.messages, 1);
    const tooBig = frames(
      [
        { data: Buffer.alloc(60), fin: false },
        { data: Buffer.alloc(41), opcode: 0 },
      ],
      true,
    );
    assert.equal(new FrameScanner(100).push(tooBig), 1009);
  });

  it('notices close frames and rejects oversized control frames', () => {
    const scan = new FrameScanner();
    scan.push(closeFrame(1000, 'bye', true));
    assert.equal(scan.closeSeen, true);
    assert.equal(scan.messages, 0);
    const bad = frames([{ data: Buffer.alloc(126), opcode: 0x9 }], false);
    assert.equal(new FrameScanner().push(bad), 1002);
  });

  it('writes close and ping frames a ws receiver accepts', async () => {
    for (const masked of [false, true]) {
      const receiver = new Receiver({ isServer: masked });
      const got: unknown[] = [];
      receiver.on('conclude', (code: number, reason: Buffer) => got.push(['close', code, reason.toString()]));
      receiver.on('ping', () => got.push(['ping']));
      receiver.on('error', (err: Error) => got.push(['error', err.message]));
      if (!masked) receiver.write(pingFrame());
      receiver.write(closeFrame(1012, 'service restart', masked));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(got, [...(masked ? [] : [['ping']]), ['close', 1012, 'service restart']]);
    }
  });
});
