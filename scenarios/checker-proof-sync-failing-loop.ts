import { defineScenario } from '../harness/index';

/**
 * Checker self-test for the other sync loop of RFC 0006 §3.4 ("continuous retry"): a server that
 * answers 500 to every push carrying one particular record (broken mode `poison-push`), so the
 * writer retries the same push on every sync and never gets past it, while no fault is in effect.
 * sync-loops must flag the writer (its failures in a row, with their history indexes) and not the
 * reader beside it; the server logs `sync loop suspected: continuous retries` for that device every
 * 5th failed request (server/broken.test.ts proves the log line).
 */
export default defineScenario({
  name: 'checker-proof-sync-failing-loop',
  title: 'Checker proof: a device whose syncs keep failing',
  tags: ['checker-proof', 'operations'],
  timeScale: 20, // the RFC backoff of each failing sync (1+2+4+8+16 s) runs 20× faster
  server: { broken: ['poison-push'] },
  expect: 'fail',
  checks: ['sync-loops'],
  devices: { writer: { kind: 'phone' }, reader: { kind: 'phone' } },
  thresholds: { 'sync_loop_devices{loop:failing}': ['count==0'], sync_consecutive_failures: ['max<5'] },
  async workload({ devices: { writer, reader }, expect }) {
    await reader.sync('app_launch');
    await writer.sync('app_launch');
    await writer.create('goals', { title: 'a poison pill', status: 'active' });
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(await writer.sync('manual'));
      await reader.sync('pull_to_refresh');
    }
    expect(
      outcomes.every((o) => !o.ok),
      `every sync of the writer failed (${outcomes.map((o) => (o.ok ? 'ok' : 'fail')).join(', ')})`,
    );
  },
});
