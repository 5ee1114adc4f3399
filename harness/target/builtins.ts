/**
 * The built-in adapters, selectable by name (`--adapter watermelondb-docs`): `contract`, the
 * default, and the request/response shapes of WatermelonDB's own "Implementing your Sync backend"
 * documentation (one `/sync` URL, `last_pulled_at` in the query, `null` on the first pull, the push
 * body being the changes object itself, no conflicts in the answer).
 */
import type { TargetAdapter } from './types';

export const contractAdapter: TargetAdapter = { name: 'contract' };

export const watermelondbDocsAdapter: TargetAdapter = {
  name: 'watermelondb-docs',
  health: { path: '/sync/health' },
  pull: {
    method: 'GET',
    path: '/sync',
    lastPulledAt: { in: 'query', name: 'last_pulled_at' },
    schemaVersion: { in: 'query', name: 'schema_version' },
    deviceId: { in: 'omit' },
    tables: { in: 'omit' },
    firstPull: 'null',
  },
  push: {
    method: 'POST',
    path: '/sync',
    lastPulledAt: { in: 'query', name: 'last_pulled_at' },
    schemaVersion: { in: 'omit' },
    deviceId: { in: 'omit' },
    pushId: { in: 'omit' },
    body: 'changes',
    conflictsField: null,
    timestampField: null,
  },
  auth: { kind: 'none' },
  capabilities: { idempotentPush: false },
};

export const BUILTIN_ADAPTERS: Readonly<Record<string, TargetAdapter>> = {
  contract: contractAdapter,
  'watermelondb-docs': watermelondbDocsAdapter,
};
