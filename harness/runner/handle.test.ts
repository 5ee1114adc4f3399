/**
 * pairDevices: a watch's peer offers attachFile only while the peer device can queue files. A
 * bridged app says so per launch (its hello's `uploads` capability), so it is asked at each transfer.
 */
import { describe, expect, it } from 'vitest';
import type { FileAttachment, PairContext } from '../../protocol/device';
import type { History } from '../history/index';
import type { RunDevice } from './device-set';
import { pairDevices } from './handle';
import type { DeviceHandle } from './scenario';

describe('pairDevices', () => {
  it("hands files to the peer's upload queue only while the peer says it has one", async () => {
    let hasQueue = false;
    const attached: FileAttachment[] = [];
    const phone = {
      id: 'phone',
      dataDir: '/tmp/phone',
      spec: {},
      kind: {},
      dev: {
        attachFile: async (f: FileAttachment) => {
          attached.push(f);
        },
        attachesFiles: () => hasQueue,
      },
    } as unknown as RunDevice;
    let ctx: PairContext | undefined;
    const watch = {
      id: 'watch',
      spec: { pairedWith: 'phone' },
      kind: {
        pair: (_d: unknown, c: PairContext) => {
          ctx = c;
        },
      },
      dev: {},
    } as unknown as RunDevice;
    const handles = { phone: { id: 'phone' }, watch: { id: 'watch' } } as unknown as Record<string, DeviceHandle>;
    pairDevices([phone, watch], handles, { event: () => {} } as unknown as History);
    expect(ctx?.peer.attachFile).toBeUndefined();
    hasQueue = true; // the app relaunched with the capability
    const file = {
      table: 'activities',
      recordId: 'a',
      bytes: new Uint8Array([1]),
      fileName: 'a.fit',
      contentType: 'x/y',
    } as const;
    await ctx!.peer.attachFile!(file);
    expect(attached).toEqual([file]);
  });
});
