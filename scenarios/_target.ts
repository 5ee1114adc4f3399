import { defineScenario, type ScenarioContext, type ScenarioDefinition } from '../harness/index';
import { sampleRow } from '../harness/target/probes/kit';

/**
 * The shape of every @target scenario: a real WatermelonDB phone of the probing user and a bystander
 * user's virtual device both write and sync around the probe, so the user-isolation checker can
 * catch the bystander's rows on the phone, and the convergence and lost-writes checkers judge the
 * phone's view of whatever the probe left behind. Only the tables the target serves are used.
 */
export function targetScenario(
  name: string,
  title: string,
  probe: (ctx: ScenarioContext) => Promise<void>,
  extra: Partial<ScenarioDefinition> = {},
): ScenarioDefinition {
  return defineScenario({
    name,
    title,
    tags: ['target'],
    // Probes never sleep; the scale (20× faster) shortens the devices' RFC backoff (1 s … 30 s) against a server
    // that keeps failing, so a broken target fails in seconds instead of minutes.
    timeScale: 20,
    requires: { tables: 'any', ...extra.requires },
    devices: { phone: { kind: 'phone', user: 'prober' }, bystander: { kind: 'vu', user: 'bystander' } },
    ...extra,
    async workload(ctx) {
      const { phone, bystander } = ctx.devices;
      for (const [i, t] of ctx.tables.entries()) {
        const { id: _b, ...b } = sampleRow(t, 'x', 20 + i);
        await bystander.create(t, b, ctx.id(`by-${t.slice(0, 4)}`));
        const { id: _p, ...v } = sampleRow(t, 'x', 30 + i);
        await phone.create(t, v, ctx.id(`ph-${t.slice(0, 4)}`));
      }
      await bystander.sync('app_launch');
      await phone.sync('app_launch');
      await probe(ctx);
      await bystander.sync('manual');
      await phone.sync('manual');
    },
  });
}
