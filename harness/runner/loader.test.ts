/** validateScenario and the device-kind checks the loader runs: every mistake names its field. */
import { describe, expect, it } from 'vitest';
import { deviceKind, deviceKindNames } from '../../devices/registry';
import { HarnessError } from '../../protocol/harness-error';
import { validateDeviceSpecs, validateScenario } from './loader';
import type { ScenarioDefinition } from './scenario';

const base = (over: Record<string, unknown> = {}) => ({
  name: 'ok-scenario',
  devices: { phone: { kind: 'phone' } },
  random: { opsPerDevice: 1 },
  ...over,
});

function problem(def: unknown): string {
  try {
    validateScenario(def, 'x.ts');
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    expect((e as HarnessError).code).toBe('HRN_ERR_SCENARIO');
    return (e as Error).message;
  }
  return 'accepted';
}

describe('validateScenario', () => {
  it('accepts a minimal scenario', () => {
    expect(problem(base())).toBe('accepted');
  });
  it('names the field at fault', () => {
    expect(problem(base({ name: 'Bad Name' }))).toMatch(/"name" must be a kebab-case string/);
    expect(problem(base({ devices: {} }))).toMatch(/"devices" must name at least one device/);
    expect(problem(base({ devices: { p: { kind: 'fridge' } } }))).toMatch(
      /devices\.p\.kind must be one of .*phone.*got "fridge"/,
    );
    expect(problem(base({ devices: { p: { kind: 'phone', schemaVersion: 3 } } }))).toMatch(
      /devices\.p\.schemaVersion must be 1 or 2/,
    );
    expect(problem(base({ devices: { p: { kind: 'phone', network: 'moon' } } }))).toMatch(/devices\.p\.network/);
    expect(problem(base({ random: undefined }))).toMatch(/give a "workload" function/);
    expect(problem(base({ random: { opsPerDevice: -1 } }))).toMatch(/random\.opsPerDevice/);
    expect(problem(base({ random: { opsPerDevice: 1, tables: { nope: 1 } } }))).toMatch(/unknown table "nope"/);
    expect(problem(base({ thresholds: { x: 'p(95)<1' } }))).toMatch(/thresholds\["x"\]/);
  });
  it('a threshold naming a tag no derived metric carries is an error naming the tag and the tags there are', () => {
    expect(problem(base({ thresholds: { 'sync_latency_ms{device:fresh}': ['max<10000'] } }))).toMatch(
      /"device" that no sync_latency_ms series carries; its tags are path, payload/,
    );
    expect(problem(base({ thresholds: { 'sync_latency_ms{path:phone-cloud}': ['max<10000'] } }))).toBe('accepted');
    // A scenario's own metric (ctx.metric) has tags only the run knows.
    expect(problem(base({ thresholds: { 'first_sync_ms{records:1200}': ['max<10000'] } }))).toBe('accepted');
  });
  it('an unknown checker name is an error, not zero checkers', () => {
    expect(problem(base({ checks: ['convergence'] }))).toBe('accepted');
    expect(problem(base({ checks: ['convergance'] }))).toMatch(
      /checks: unknown checker "convergance"; known: .*convergence/,
    );
  });
  it('faults are validated at load time with the field name', () => {
    expect(problem(base({ faults: [{ at: 0, fault: { kind: 'offline', device: 'phone' } }] }))).toBe('accepted');
    expect(problem(base({ faults: [{ at: 0, fault: { kind: 'offline', device: 'phon' } }] }))).toMatch(
      /faults\[0\]\.fault\.device names unknown device "phon"/,
    );
    expect(problem(base({ faults: [{ at: 0, duration: 5, fault: { kind: 'latency', device: 'phone' } }] }))).toMatch(
      /faults\[0\]\.fault\.ms must be a number/,
    );
    expect(problem(base({ faults: { random: { kinds: ['ofline'], interval: [1, 2], duration: [1, 2] } } }))).toMatch(
      /faults\.random\.kinds: unknown fault kind "ofline"/,
    );
    expect(
      problem(
        base({ random: undefined, steps: [{ at: 0, op: 'fault', fault: { kind: 'clockSkew', device: 'phone' } }] }),
      ),
    ).toMatch(/steps\[0\]\.fault\.ms must be a number/);
  });
});

describe('device kinds', () => {
  it('every kind folder exports a plugin named after its folder', async () => {
    const names = deviceKindNames();
    expect(names).toEqual(expect.arrayContaining(['phone', 'web', 'vu', 'watch', 'detox', 'ble-watch']));
    for (const n of names) {
      const k = await deviceKind(n);
      expect(k.kind).toBe(n);
      expect(['contract', 'paired']).toContain(k.talks);
    }
  });
  it('a kind checks its own spec fields at load time', async () => {
    const def = (devices: ScenarioDefinition['devices']) => validateScenario(base({ devices }), 'x.ts');
    await expect(validateDeviceSpecs(def({ p: { kind: 'phone', radio: 'ble' } }), 'x.ts')).rejects.toThrow(
      /devices\.p\.radio must be one of lte, 3g, wifi for this kind/,
    );
    await expect(validateDeviceSpecs(def({ p: { kind: 'phone', battery: { mAh: 0 } } }), 'x.ts')).rejects.toThrow(
      /devices\.p\.battery\.mAh must be a number > 0/,
    );
    await expect(validateDeviceSpecs(def({ w: { kind: 'watch' } }), 'x.ts')).rejects.toThrow(
      /devices\.w: a watch needs pairedWith/,
    );
    await expect(
      validateDeviceSpecs(def({ v: { kind: 'vu' }, w: { kind: 'watch', pairedWith: 'v' } }), 'x.ts'),
    ).rejects.toThrow(/devices\.w\.pairedWith must name a phone/);
    await expect(
      validateDeviceSpecs(def({ p: { kind: 'phone' }, w: { kind: 'watch', pairedWith: 'p' } }), 'x.ts'),
    ).resolves.toBeUndefined();
  });
});
