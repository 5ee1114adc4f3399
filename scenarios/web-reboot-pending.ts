import { defineScenario } from '../harness/index';

/** The browser is killed with unpushed changes and restarted from its persistent profile: nothing pending is lost. */
export default defineScenario({
  name: 'web-reboot-pending',
  title: 'Browser restarted with unpushed changes',
  tags: ['web', 'process'],
  devices: { web: { kind: 'web', persistent: true }, phone: { kind: 'phone' } },
  async workload({ devices: { web, phone }, expect }) {
    await web.sync('app_launch');
    for (let i = 0; i < 10; i++) await web.create('activities', { sport: 'run', notes: `pending ${i}` }, `reboot-${i}`);
    const before = await web.pending();
    await web.kill();
    await web.restart();
    expect((await web.pending()) === before, `pending changes survive the browser kill (${before})`);
    await web.sync('app_launch');
    await phone.sync('manual');
    expect(
      (await phone.snapshot()).activities.filter((a) => a.id.startsWith('reboot-')).length === 10,
      'the phone sees all 10',
    );
  },
});
