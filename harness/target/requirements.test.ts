import { describe, expect, it } from 'vitest';
import type { ScenarioDefinition } from '../runner/scenario';
import { targetGaps } from './requirements';

describe('targetGaps', () => {
  it("skips a scenario that calls the reference server's operator routes, and only that one", () => {
    // The admin gap is decided before any adapter field is read that these scenarios touch.
    const adapter = { tables: [], capabilities: { schemaVersions: [2], multiUser: true, files: true } } as never;
    const def = (requires?: ScenarioDefinition['requires']): ScenarioDefinition => ({
      name: 'x',
      devices: { p: { kind: 'phone' } },
      requires: { tables: 'any', ...requires },
    });
    expect(targetGaps(def({ admin: true }), adapter)).toEqual([
      "it calls the reference server's operator routes (/admin/*), which a target has not",
    ]);
    expect(targetGaps(def(), adapter)).toEqual([]);
  });
});
