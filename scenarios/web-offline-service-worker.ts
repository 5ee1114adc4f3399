import { defineScenario } from '../harness/index';

/**
 * Edits while offline, the page is closed, and the service worker's Background Sync delivers them
 * on reconnect with no page open.
 */
export default defineScenario({
  name: 'web-offline-service-worker',
  title: 'Offline edits delivered by the service worker with the page closed',
  tags: ['web', 'offline'],
  devices: { web: { kind: 'web', autoSync: true }, phone: { kind: 'phone' } },
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default: 4/4 on
  // seed 1; no recorded sync overlapped the offline fault).
  async workload({ devices: { web, phone }, nemesis, expect }) {
    const w = web.driver('web');
    await w.serviceWorkerReady();
    await web.sync('app_launch');
    const off = await nemesis.start({ kind: 'offline', device: 'web' });
    for (let i = 0; i < 5; i++)
      await web.create('daily_metrics', { date: `2026-11-${10 + i}`, steps: 1000 * i }, `sw-${i}`);
    await w.closeAllTabs();
    await off.stop();
    const bg = await w.dispatchBackgroundSync();
    expect(
      bg?.ok === true,
      `the service worker's background sync succeeded with no page open (${bg?.error ?? 'no report'})`,
    );
    await phone.sync('manual');
    const got = (await phone.snapshot()).daily_metrics.filter((r) => r.id.startsWith('sw-')).length;
    expect(got === 5, `the phone sees the 5 edits made offline on the web (got ${got})`);
    await w.restart();
  },
});
