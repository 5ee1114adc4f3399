/**
 * The adapter for the camel-seconds test server (test/targets/README.md): written from that README
 * alone, as a team would for its own server. `harness run @target --target URL --adapter <this file>`.
 */
import { defineAdapter } from '../../../harness/index';

export default defineAdapter({
  name: 'camel-seconds',
  health: { path: '/api/health' },
  timeUnit: 's',
  pull: {
    path: '/api/sync/pull',
    lastPulledAt: { in: 'query', name: 'last_pulled_at' },
    schemaVersion: { in: 'query', name: 'schema_version' },
    deviceId: { in: 'query', name: 'device_id' },
    tables: { in: 'omit' },
    firstPull: 'null',
    timestampField: 'lastPulledAt',
  },
  push: {
    path: '/api/sync/push',
    lastPulledAt: { in: 'query', name: 'last_pulled_at' },
    deviceId: { in: 'query', name: 'device_id' },
    schemaVersion: { in: 'omit' },
    pushId: { in: 'omit' },
    okStatus: [201],
    conflictsField: 'conflicts',
    timestampField: null,
  },
  auth: {
    kind: 'login',
    path: '/api/login',
    body: ({ userId, deviceId }) => ({ username: userId, device: deviceId }),
    tokenField: 'accessToken',
  },
  columns: 'camelCase',
  tables: ['activities', 'daily_metrics', 'goals'],
});
