import { defineScenario } from '../harness/index';

/**
 * RFC 0006 §3.4 steps 2 and 4 (and §7 "full sync trigger"): the operator resets the server-side sync
 * state of a phone, a virtual user and a web client while each holds unpushed edits (updates, a
 * create, a delete) and another phone has changed the shared data meanwhile. Each device's next sync
 * gets 410 SYNC_ERR_RESYNC_REQUIRED, drops its sync metadata but not its pending changes, pulls
 * everything from 0 (sync_log FULL_SYNC, read back through the GDPR sync-history export), and pushes
 * its pending work: nothing lost, everyone converges.
 */
export default defineScenario({
  name: 'forced-full-resync',
  title: 'Forced full re-sync with pending edits: 410, full pull, re-push, nothing lost',
  tags: ['operations'],
  timeScale: 10,
  devices: { phone: { kind: 'phone' }, vu: { kind: 'vu' }, web: { kind: 'web' }, other: { kind: 'phone' } },
  async workload({ devices, nemesis, expect, note, admin }) {
    const resetting = [devices.phone!, devices.vu!, devices.web!];
    const ids: Record<string, string[]> = {};
    for (const d of resetting) {
      ids[d.id] = [];
      for (let i = 0; i < 3; i++) ids[d.id]!.push(await d.create('goals', { title: `${d.id} ${i}`, status: 'active' }));
      expect((await d.sync('manual')).ok, `${d.id} syncs before the reset`);
    }
    const other = devices.other!;
    expect((await other.sync('manual')).ok, 'the other phone pulls everything');
    await other.create('goals', { title: 'written elsewhere meanwhile', status: 'active' });
    expect((await other.sync('manual')).ok, 'the other phone pushes a new row');
    // Pending edits on every device about to be reset: an update, a create, a delete.
    for (const d of resetting) {
      await d.update('goals', ids[d.id]![0]!, { status: 'done' });
      await d.create('goals', { title: `${d.id} pending create`, status: 'active' });
      await d.delete('goals', ids[d.id]![1]!);
      expect((await d.pending()) === 3, `${d.id} holds 3 unpushed changes at the reset`);
      await nemesis.inject({ kind: 'resetSyncState', device: d.id });
    }
    for (const d of resetting) {
      const o = await d.sync('manual');
      expect(
        o.ok && o.fullResync === true,
        `${d.id} was told to re-sync (410) and did a full re-sync (${o.error ?? 'ok'})`,
      );
      expect((await d.pending()) === 0, `${d.id} pushed its pending work after the full pull`);
      const goals = (await d.snapshot()).goals;
      expect(
        goals.some((g) => g.title === 'written elsewhere meanwhile'),
        `${d.id}'s full pull brought the row another device wrote meanwhile`,
      );
    }
    if (admin) {
      const h = await admin.syncHistory('user-1');
      const full = h.log.filter((r) => r.operation === 'FULL_SYNC');
      expect(full.length === resetting.length, `sync_log has one FULL_SYNC per reset device (${full.length})`);
      note(`sync_log (GDPR export): ${h.log.length} rows, ${full.length} FULL_SYNC, ${h.devices.length} devices`);
    }
    note(
      'proved: a server-side reset is signalled by 410 SYNC_ERR_RESYNC_REQUIRED; phone, vu and web dropped their sync metadata, kept 3 pending edits each, pulled everything from 0 (FULL_SYNC in sync_log) and pushed them; checkers below show nothing lost and convergence',
    );
  },
});
