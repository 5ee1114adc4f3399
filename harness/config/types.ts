import type { TargetAdapter } from '../target/types';

export type ServiceMode = 'auto' | 'embedded' | 'container' | 'url';

export interface ServiceConfig {
  mode: ServiceMode;
  /** For mode 'url'. */
  url?: string;
}

export type ReporterSpec = string | [name: string, options?: Record<string, unknown>];

export interface ProjectConfig {
  name: string;
  /** Scenario names or tags (`@tag`) this project runs; all when omitted. */
  scenarios?: string[];
  grep?: string;
  use?: Partial<UseOptions>;
}

/** Options a project or the CLI may override per run. */
export interface UseOptions {
  /** Network preset applied to every device unless the scenario says otherwise. */
  network?: string;
  timeScale: number;
  /** Phone adapter: 'lokijs' (default) or 'sqlite'. */
  phoneAdapter?: 'lokijs' | 'sqlite';
  /**
   * Kind-specific options, by device kind: `detox` (app host, Detox configuration, binaries) and
   * `ble-watch` (transport, adapter); each kind validates its own (see devices/<kind>/README.md).
   * A project's `use.devices` replaces the config's as a whole.
   */
  devices?: Partial<Record<string, Record<string, unknown>>>;
}

export interface HarnessConfig {
  /** Where scenario files live (default `scenarios`). */
  scenarioDir: string;
  outputDir: string;
  seed?: number;
  repeat: number;
  retries: number;
  services: { postgres: ServiceConfig; proxy: ServiceConfig; objectStore: ServiceConfig };
  /**
   * `start` runs our reference server; `target` points every device at another server, spoken to
   * through `adapter` (a built-in name, a file path, or a `defineAdapter` object; default `contract`).
   */
  server: { start: true; broken?: string[] } | { target: string; adapter?: string | TargetAdapter };
  /** k6 syntax: { 'sync_latency_ms{path:phone-cloud}': ['p(95)<2000'] }, merged over the RFC defaults. */
  thresholds: Record<string, string[]>;
  reporters: ReporterSpec[];
  projects: ProjectConfig[];
  use: UseOptions;
  /** Per-scenario timeout, ms of wall time. */
  timeoutMs: number;
}

export type UserConfig = {
  [K in keyof HarnessConfig]?: K extends 'services'
    ? Partial<Record<keyof HarnessConfig['services'], ServiceMode | ServiceConfig>>
    : K extends 'use'
      ? Partial<UseOptions>
      : HarnessConfig[K];
};
