import { describe, expect, it } from 'vitest';
import {
  BlockReceiver,
  BlockSender,
  type ControlMessage,
  decodeActivityPack,
  decodeBlock,
  encodeActivityPack,
  FrameReader,
  frameChunks,
  metaFor,
} from './protocol';

describe('watch protocol', () => {
  it('frames survive any chunking (MTU-3 values), back to back', () => {
    const got: string[] = [];
    const r = new FrameReader((b) => got.push(b.toString()));
    for (const max of [20, 182, 244]) {
      for (const c of [...frameChunks(Buffer.from('a'.repeat(500)), max), ...frameChunks(Buffer.from('bc'), max)]) {
        expect(c.length).toBeLessThanOrEqual(max);
        r.push(c);
      }
    }
    expect(got).toEqual(['a'.repeat(500), 'bc', 'a'.repeat(500), 'bc', 'a'.repeat(500), 'bc']);
  });

  it('activity pack round trip keeps the FIT bytes', () => {
    const fit = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
    const pack = {
      activityId: 'a1',
      summary: { sport: 'running', startTime: 'x', durationS: 1, distanceM: 2 },
      fitFile: fit,
    };
    expect(decodeActivityPack(encodeActivityPack(pack))).toEqual({ ...pack, rpe: undefined, notes: undefined });
  });

  it('blocks: window, CRC nack and resend, resume from the first missing block', async () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
    const meta = metaFor('context', 'context-1', bytes, 1, 1000);
    const receiver = new BlockReceiver(meta);
    const toSender: ControlMessage[] = [];
    const sentData: Buffer[] = [];
    const sender = new BlockSender(meta, bytes, { sendControl: () => {}, sendData: (f) => sentData.push(f) }, 3);
    const run = sender.run();
    sender.onControl({ t: 'accept', id: meta.id, from: 0 });
    expect(sentData).toHaveLength(3); // window
    // Block 1 corrupted on the way: nack, then resent.
    sentData[1][20] ^= 0xff;
    for (const f of sentData.splice(0)) {
      const reply = receiver.onBlock(decodeBlock(f));
      toSender.push(reply);
    }
    expect(toSender.map((m) => m.t)).toEqual(['ack', 'nack', 'ack']);
    // Link lost before the replies arrive: a new sender resumes from the first missing block.
    sender.abort(new Error('lost'));
    await expect(run).rejects.toThrow('lost');
    expect(receiver.firstMissing()).toBe(1);
    const again = new BlockSender(meta, bytes, { sendControl: () => {}, sendData: (f) => sentData.push(f) }, 3);
    const done = again.run();
    again.onControl({ t: 'accept', id: meta.id, from: receiver.firstMissing() });
    while (sentData.length) {
      for (const f of sentData.splice(0)) again.onControl(receiver.onBlock(decodeBlock(f)));
    }
    expect(receiver.complete).toBe(true);
    expect(receiver.assemble().equals(bytes)).toBe(true);
    again.onControl({ t: 'done', id: meta.id });
    await expect(done).resolves.toBe('done');
    expect(again.blocksSent).toBe(9);
  });
});
