import { defineScenario } from '../harness/index';

/**
 * Checker self-test for sync-loop detection (RFC 0006 §3.4 trigger "sync loop (continuous retry)"):
 * a server whose incremental pulls answer the stamp they were sent, so a device pulls the same
 * changes on every sync and never gets past them. sync-loops must flag the device, with the history
 * indexes of the repeated syncs. The same workload against the correct server is `sync-loop-healthy`.
 */
export default defineScenario({
  name: 'checker-proof-sync-loop',
  title: 'Checker proof: a device re-pulling the same changes forever',
  tags: ['checker-proof', 'operations'],
  server: { broken: ['stuck-pull-timestamp'] },
  expect: 'fail',
  checks: ['sync-loops'],
  devices: { writer: { kind: 'phone' }, reader: { kind: 'phone' } },
  async workload({ devices: { writer, reader } }) {
    await reader.sync('app_launch');
    for (let i = 0; i < 3; i++) await writer.create('goals', { title: `goal ${i}`, status: 'active' });
    await writer.sync('manual');
    for (let i = 0; i < 4; i++) await reader.sync('pull_to_refresh');
  },
});
