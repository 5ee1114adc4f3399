/** Generators compose: sequence keeps order, concurrent overlaps, a scenario's parts run random → steps → script. */
import { describe, expect, it } from 'vitest';
import type { ScenarioContext } from './scenario';
import { gen, scenarioWorkload } from './workload-driver';

function ctxLogging(log: string[]): ScenarioContext {
  return {
    random: async (w: { opsPerDevice: number }) => {
      log.push(`random:${w.opsPerDevice}`);
    },
    device: () => ({ sync: async () => log.push('sync') }),
    clock: { now: () => 0, sleep: async () => {}, timeScale: 1 },
    sleep: async () => {},
  } as unknown as ScenarioContext;
}

describe('workload generators', () => {
  it('sequence runs in order; concurrent starts all before any finishes', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = async () => {
      log.push('slow:start');
      await gate;
      log.push('slow:end');
    };
    const fast = async () => {
      log.push('fast');
      release();
    };
    await gen.sequence(gen.random({ opsPerDevice: 1 }), gen.concurrent(slow, fast))(ctxLogging(log));
    expect(log).toEqual(['random:1', 'slow:start', 'fast', 'slow:end']);
  });

  it("a scenario's random part, recorded steps and script run in that order", async () => {
    const log: string[] = [];
    await scenarioWorkload({
      name: 'x',
      devices: { a: { kind: 'vu' } },
      random: { opsPerDevice: 2 },
      steps: [{ at: 0, device: 'a', op: 'sync' }],
      workload: async () => {
        log.push('script');
      },
    })(ctxLogging(log));
    expect(log).toEqual(['random:2', 'sync', 'script']);
  });
});
