import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BROKEN_MODES, isBrokenMode } from '../../server/broken';
import { validateUse } from '../config/define-config';
import { HarnessError } from '../config/errors';
import { loadConfig } from '../config/load';
import { NETWORK_PRESETS } from '../config/network-presets';
import {
  type BrokenScenario,
  loadScenarioLibrary,
  loadScenarios,
  parseShard,
  selectedBroken,
  selectScenarios,
  shard,
} from '../runner/loader';
import type { CreateReporters } from '../runner/run';

const int =
  (name: string, min = 0) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a number > 0`);
  return n;
};

/** One error for the broken files a command needs (each with its code frame). */
function brokenError(broken: BrokenScenario[]): HarnessError {
  if (broken.length === 1) return broken[0].error;
  return new HarnessError(
    'HRN_ERR_SCENARIO',
    `${broken.length} scenario files could not be loaded:\n${broken.map((b) => b.error.message).join('\n\n')}`,
  );
}

/** Broken files the command can do without, on stderr, so they are fixed but block nothing else. */
function warnBroken(broken: BrokenScenario[], level: 'warning' | 'error' = 'warning'): void {
  for (const b of broken) process.stderr.write(`${level} ${b.error.code}: ${b.error.message}\n`);
}

export function registerCommands(program: Command) {
  program
    .command('run')
    .description('Run scenarios (names or @tags; all when none) and report the verdict')
    .argument('[scenarios...]', 'scenario names or tags')
    .option('-g, --grep <regex>', 'only scenarios whose name, title or tag matches')
    .option('--grep-invert <regex>', 'leave out scenarios whose name, title or tag matches, e.g. "^(load|target)$"')
    .option(
      '--seed <n>',
      'seed for workloads and faults (printed on every run; same seed, same operations)',
      int('--seed'),
    )
    .option('--repeat <n>', 'run each scenario n times (seeds seed, seed+1, …)', int('--repeat', 1))
    .option(
      '--retries <n>',
      'retry a failing scenario up to n times; a pass on retry is reported as flaky',
      int('--retries'),
    )
    .option('--shard <i/n>', 'run only shard i of n (deterministic split by name)')
    .option('--reporter <names>', 'comma-separated reporters: list, line, dot, json, junit, markdown, html')
    .option('-c, --config <path>', 'config file (default harness.config.ts)')
    .option('--project <name>', 'run a project of the config (its scenarios and `use` overrides)')
    .option('--target <url>', 'test another server instead of starting ours (see "Testing your own server")')
    .option(
      '--adapter <name|file>',
      "how the target's wire differs from the contract: contract (default), watermelondb-docs, or an adapter file",
    )
    .addOption(
      new Option('--services <mode>', 'how to get PostgreSQL and the proxy').choices([
        'embedded',
        'container',
        'auto',
        'url',
      ]),
    )
    .option('--database-url <url>', 'PostgreSQL URL for --services url')
    .option(
      '--time-scale <x>',
      'run waits (backoff, background fetch, fault durations) x times faster',
      positive('--time-scale'),
    )
    .addOption(
      new Option('--network <preset>', 'network preset for every device').choices(Object.keys(NETWORK_PRESETS)),
    )
    .option(
      '--broken-server <modes>',
      'start the reference server with deliberate bugs (checker self-test), comma-separated',
    )
    .option(
      '--server-instances <n>',
      'run the reference server as n processes behind a round-robin front',
      int('--server-instances', 1),
    )
    .option('--output <dir>', 'output folder (default harness-results)')
    .option('--allow-skipped', 'exit 0 when scenarios were skipped for missing hardware (default: exit 1)')
    .addHelpText(
      'after',
      `
Examples:
  harness run smoke                      run one scenario
  harness run @conflicts --seed 42       every scenario tagged "conflicts", fixed seed
  harness run --shard 2/4 --reporter line,junit
  harness run --target http://staging:8080 smoke
  harness run stale-push-race --broken-server skip-stale-check   a checker catching a broken server`,
    )
    .action(async (scenarioArgs: string[], o) => {
      let names = scenarioArgs;
      const { config, file: configFile } = await loadConfig(o.config);
      if (o.output) config.outputDir = o.output;
      if (o.services) {
        config.services.postgres = { mode: o.services, url: o.databaseUrl };
        if (o.services !== 'url')
          config.services.proxy = { mode: o.services === 'container' ? 'container' : 'embedded' };
      } else if (o.databaseUrl) config.services.postgres = { mode: 'url', url: o.databaseUrl };
      if (config.services.postgres.mode === 'url' && !config.services.postgres.url)
        throw new HarnessError('HRN_ERR_USAGE', '--services url needs --database-url postgres://…');
      validateUse('--network/--time-scale', { network: o.network, timeScale: o.timeScale });
      if (o.project) {
        const p = config.projects.find((x) => x.name === o.project);
        if (!p)
          throw new HarnessError(
            'HRN_ERR_USAGE',
            `no project "${o.project}" in the config; projects: ${config.projects.map((x) => x.name).join(', ') || '(none)'}`,
          );
        config.use = { ...config.use, ...p.use };
        if (!names.length && p.scenarios) names = p.scenarios;
        if (!o.grep && p.grep) o.grep = p.grep;
        validateUse(`projects["${p.name}"].use`, config.use);
      }
      const lib = await loadScenarioLibrary(resolve(config.scenarioDir));
      // A broken file the run selects stops it before anything starts; others are only reported.
      const brokenSelected = (o.grep || o.grepInvert) && !names.length ? [] : selectedBroken(lib, names);
      if (brokenSelected.length) throw brokenError(brokenSelected);
      warnBroken(lib.broken);
      let selected = selectScenarios(lib.scenarios, names, o.grep, o.grepInvert);
      const sh = o.shard ? parseShard(o.shard) : undefined;
      selected = shard(selected, sh);
      if (selected.length === 0 && !sh) throw new HarnessError('HRN_ERR_NO_SCENARIOS', 'no scenario matched');
      const reporters = o.reporter
        ? String(o.reporter)
            .split(',')
            .map((s: string) => s.trim())
            .filter(Boolean)
        : undefined;
      const { runHarness } = await import('../runner/run');
      const { exitCode } = await runHarness({
        config,
        scenarios: selected,
        seed: o.seed,
        repeat: o.repeat,
        retries: o.retries,
        shard: sh,
        reporters,
        target: o.target,
        adapter: o.adapter,
        timeScale: o.timeScale,
        network: o.network,
        brokenServer: o.brokenServer ? brokenModes(String(o.brokenServer)) : undefined,
        serverInstances: o.serverInstances,
        allowSkipped: !!o.allowSkipped,
        argv: process.argv.slice(2),
        configFile,
        createReporters: await reporterFactory(),
      });
      process.exitCode = exitCode;
    });

  program
    .command('probe')
    .description('Find out what a sync server speaks and write a starter adapter for it')
    .requiredOption('--target <url>', 'the server to examine')
    .option('-o, --out <file>', 'where to write the starter adapter', 'target.adapter.ts')
    .addHelpText(
      'after',
      `
Examples:
  harness probe --target http://staging:8080
  harness run @target --target http://staging:8080 --adapter target.adapter.ts`,
    )
    .action(async (o) => {
      if (!/^https?:\/\//.test(o.target))
        throw new HarnessError('HRN_ERR_USAGE', `--target must be an http(s) URL; got ${o.target}`);
      const { discoverTarget } = await import('../target/discover');
      const t0 = performance.now();
      const d = await discoverTarget(o.target);
      const w = Math.max(...d.findings.map((f) => f.what.length));
      for (const f of d.findings) process.stdout.write(`${f.what.padEnd(w)}  ${f.found}  (${f.how})\n`);
      writeFileSync(resolve(o.out), d.file);
      process.stderr.write(
        `wrote ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s; check it, then: harness run @target --target ${o.target} --adapter ${o.out}\n`,
      );
      if (d.findings.some((f) => f.what === 'pull' && f.found === 'not found')) process.exitCode = 1;
    });

  program
    .command('list')
    .description('List scenarios with their tags and devices')
    .option('-c, --config <path>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      const { config } = await loadConfig(o.config);
      const { scenarios: all, broken } = await loadScenarioLibrary(resolve(config.scenarioDir));
      // The loadable ones are listed; each broken file follows as an error, and the exit code is 2.
      if (broken.length) process.exitCode = 2;
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify(
            all.map((s) => ({
              name: s.def.name,
              title: s.def.title,
              tags: s.def.tags ?? [],
              devices: s.def.devices,
              file: s.file,
            })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      const rows = all.map((s) => [
        s.def.name,
        (s.def.tags ?? []).map((t) => `@${t}`).join(' '),
        Object.entries(s.def.devices)
          .map(([id, d]) => `${id}:${d.kind}${d.schemaVersion === 1 ? '(v1)' : ''}`)
          .join(' '),
      ]);
      const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
      for (const r of rows) process.stdout.write(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}\n`);
      process.stdout.write(
        `\n${rows.length} scenarios${broken.length ? `, ${broken.length} could not be loaded` : ''}\n`,
      );
      warnBroken(broken, 'error');
    });

  program
    .command('devices')
    .description('Device kinds this machine can run, and the real devices attached (adb, iOS simulators, BLE watches)')
    .option('--scan-ms <ms>', 'how long to scan for BLE watches', int('--scan-ms', 1), 5000)
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      const { allDeviceKinds } = await import('../../devices/registry');
      const kinds = await allDeviceKinds();
      const rows = await Promise.all(
        kinds.map(async (k) => {
          // Runnable here when one of its findings is ok (detox: Android or iOS); no findings, nothing needed.
          const can = ((await k.doctor?.()) ?? []).some((x) => x.ok) || !k.doctor;
          return { kind: k.kind, summary: k.summary, runnable: can };
        }),
      );
      const found = await Promise.all(kinds.map((k) => k.attached?.({ scanMs: o.scanMs })));
      const attached = found.flatMap((f) => f?.devices ?? []);
      const notes = found.flatMap((f) => f?.notes ?? []);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ kinds: rows, attached, notes }, null, 2)}\n`);
        return;
      }
      for (const r of rows)
        process.stdout.write(
          `${r.runnable ? '✓' : '–'} ${r.kind.padEnd(10)} ${r.summary}${r.runnable ? '' : '  (not on this machine: see harness doctor)'}\n`,
        );
      process.stdout.write('\nAttached devices\n');
      const table = [
        ['KIND', 'ID', 'NAME', 'STATE', 'VIA', 'DETAIL'],
        ...attached.map((d) => [d.kind, d.id, d.name ?? '', d.state, d.via, d.detail ?? '']),
      ];
      if (attached.length === 0) process.stdout.write('  (none)\n');
      else {
        const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
        for (const r of table)
          process.stdout.write(
            `  ${r
              .map((c, i) => c.padEnd(w[i]))
              .join('  ')
              .trimEnd()}\n`,
          );
      }
      for (const n of notes) process.stdout.write(`  – ${n}\n`);
    });

  program
    .command('detox-config')
    .description("Print the Detox configuration the detox kind generates from the config's use.devices.detox")
    .option('-c, --config <path>', 'config file (default harness.config.ts)')
    .option('--project <name>', 'a project whose `use` applies (e.g. emulator, device-farm)')
    .action(async (o) => {
      const { config } = await loadConfig(o.config);
      let use = config.use;
      if (o.project) {
        const p = config.projects.find((x) => x.name === o.project);
        if (!p)
          throw new HarnessError(
            'HRN_ERR_USAGE',
            `no project "${o.project}" in the config; projects: ${config.projects.map((x) => x.name).join(', ') || '(none)'}`,
          );
        use = { ...use, ...p.use };
      }
      const { requireTarget, resolveDetoxOptions } = await import('../../devices/detox/options');
      const { detoxConfig } = await import('../../devices/detox/config');
      const d = resolveDetoxOptions(use.devices?.detox);
      requireTarget(d);
      process.stdout.write(`${JSON.stringify(detoxConfig(d), null, 2)}\n`);
    });

  program
    .command('doctor')
    .description('What this machine can run: PostgreSQL modes, container runtime, Chromium, BLE, mobile tooling')
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      const { runDoctor } = await import('./doctor');
      process.exitCode = await runDoctor({ json: !!o.json });
    });

  program
    .command('serve')
    .description(
      'Start PostgreSQL and the reference sync server; print its URL and a test-token recipe; run until Ctrl-C',
    )
    .option('--port <n>', 'port (default: a free one)', int('--port'))
    .option('--host <host>', 'interface', '127.0.0.1')
    .addOption(
      new Option('--services <mode>', 'PostgreSQL provider')
        .choices(['embedded', 'url', 'container', 'auto'])
        .default('auto'),
    )
    .option('--database-url <url>', 'PostgreSQL URL (implies --services url)')
    .addOption(
      new Option('--object-store <mode>', 'S3 store behind /files/* (FIT uploads); none: those routes answer 501')
        .choices(['embedded', 'container', 'url', 'auto', 'none'])
        .default('embedded'),
    )
    .option('--object-store-url <url>', 'S3 endpoint for --object-store url: http://KEY:SECRET@host:port/bucket')
    .option(
      '--instances <n>',
      'server processes behind one round-robin front (see README "Scaling out")',
      int('--instances', 1),
      1,
    )
    .action(async (o) => {
      if (o.instances > 1) {
        const { runClusterServe } = await import('../runner/serve-cluster');
        await runClusterServe({
          port: o.port,
          host: o.host,
          instances: o.instances,
          services: o.databaseUrl ? 'url' : o.services,
          databaseUrl: o.databaseUrl,
        });
        return;
      }
      const { runServeCommand } = await import('../../server/main');
      const os = await import('../services/object-store/index');
      const store =
        o.objectStore === 'none'
          ? undefined
          : await os.resolveObjectStore(o.objectStore, {
              url: o.objectStoreUrl,
              log: (l) => process.stderr.write(`${l}\n`),
            });
      try {
        await runServeCommand({
          port: o.port,
          host: o.host,
          services: o.databaseUrl ? 'url' : o.services,
          databaseUrl: o.databaseUrl,
          ...(store ? { objectStore: os.serverObjectStoreConfig(store) } : {}),
        });
      } finally {
        await store?.stop();
      }
    });

  program
    .command('proxy')
    .description('Run the embedded Toxiproxy-compatible proxy standalone (existing Toxiproxy scripts work against it)')
    .option('--port <n>', 'API port', int('--port'), 8474)
    .option('--host <host>', 'interface', '127.0.0.1')
    .action(async (o) => {
      const { runProxyCommand } = await import('../services/toxiproxy/command');
      await runProxyCommand({ port: o.port, host: o.host });
    });

  program
    .command('report')
    .description('Regenerate the reports of a run folder, or serve its HTML report')
    .argument('[run-dir]', 'a folder written by harness run', 'harness-results/latest')
    .option('--reporter <names>', 'reporters to run (default json,junit,markdown,html)')
    .option('--serve [port]', 'serve the HTML report over HTTP')
    .action(async (dir: string, o) => {
      const r = await import('../../reports/commands');
      if (o.serve !== undefined) await r.serveReport(resolve(dir), o.serve === true ? 0 : Number(o.serve));
      else {
        const { files } = await r.generateReport(resolve(dir), { reporters: o.reporter?.split(',') });
        // Say where each report went: the command otherwise finishes silently.
        for (const f of files) process.stdout.write(`wrote ${f}\n`);
        if (!files.length) process.stdout.write(`no report files written to ${resolve(dir)}\n`);
      }
    });

  program
    .command('compare')
    .description('Diff every metric of two runs, with regression markers')
    .argument('<runA>')
    .argument('<runB>')
    .option('--threshold-pct <n>', 'flag metrics that moved more than n percent', positive('--threshold-pct'), 10)
    .action(async (a: string, b: string, o) => {
      const r = await import('../../reports/commands');
      const out = await r.compareRuns(resolve(a), resolve(b), { thresholdPct: o.thresholdPct });
      process.exitCode = out.regressions.length ? 1 : 0;
    });

  program
    .command('merge-reports')
    .description('Merge the results of sharded runs into one report')
    .argument('<dirs...>')
    .option('--output <dir>', 'where to write the merged run', 'harness-results/merged')
    .action(async (dirs: string[], o) => {
      const r = await import('../../reports/commands');
      await r.mergeReports(
        dirs.map((d) => resolve(d)),
        resolve(o.output),
      );
    });

  program
    .command('replay')
    .description('Re-run the scenarios of a recorded run with the same seed, workload and fault schedule')
    .argument('<run-dir>')
    .option('--scenario <name>', 'only this scenario')
    .option('--broken-server <modes>', 'start the reference server with deliberate bugs, comma-separated')
    .action(async (dir: string, o) => {
      const { replayRun } = await import('../runner/replay');
      process.exitCode = await replayRun(resolve(dir), {
        scenario: o.scenario,
        brokenServer: o.brokenServer ? brokenModes(String(o.brokenServer)) : undefined,
        createReporters: await reporterFactory(),
      });
    });

  const exp = program.command('export').description('Export a scenario for another engine (see README "Scaling out")');
  exp
    .command('k6')
    .description("Write a k6 script that speaks the sync protocol with the scenario's load, payloads and thresholds")
    .argument('<scenario>')
    .option('-o, --out <file>', 'where to write it (default <scenario>.k6.js; "-" for stdout)')
    .option('--base-url <url>', 'server the script targets by default (SYNC_BASE_URL overrides at run time)')
    .option('--adapter <name|file>', "the target's wire (a target adapter; default contract)")
    .option('-c, --config <path>', 'config file')
    .addHelpText(
      'after',
      `
Examples:
  harness export k6 load-1000-concurrent
  k6 run -e SYNC_BASE_URL=http://127.0.0.1:3000 load-1000-concurrent.k6.js`,
    )
    .action(async (name: string, o) => {
      const { config } = await loadConfig(o.config);
      const all = await loadScenarios(resolve(config.scenarioDir));
      const [s] = selectScenarios(all, [name]);
      if (!s) throw new HarnessError('HRN_ERR_NO_SCENARIOS', `no scenario named "${name}"`);
      const { exportK6, k6WireFromAdapter } = await import('../export/k6');
      const { loadAdapter } = await import('../target/load');
      const adapterSpec = o.adapter ?? ('target' in config.server ? config.server.adapter : undefined);
      const wire = adapterSpec === undefined ? undefined : k6WireFromAdapter(await loadAdapter(adapterSpec));
      const { script, skipped } = exportK6(s.def, { baseUrl: o.baseUrl, wire });
      if (o.out === '-') {
        process.stdout.write(script);
        return;
      }
      const out = resolve(o.out ?? `${s.def.name}.k6.js`);
      writeFileSync(out, script);
      process.stderr.write(`wrote ${out}\n  run it: k6 run -e SYNC_BASE_URL=<server> ${out}\n`);
      for (const k of skipped) process.stderr.write(`  threshold not exported: ${k.key} (${k.why})\n`);
    });

  program
    .command('shrink')
    .description('Search a smaller failing case for a failed run and write it as a new scenario file')
    .argument('<run-dir>')
    .option('--scenario <name>', 'which failed scenario (default: the first)')
    .option('--budget <n>', 'maximum number of candidate runs', int('--budget', 1), 40)
    .action(async (dir: string, o) => {
      const { shrinkRun } = await import('../runner/shrink');
      process.exitCode = await shrinkRun(resolve(dir), {
        scenario: o.scenario,
        budget: o.budget,
        createReporters: await reporterFactory(),
      });
    });
}

/** The reporters the runner feeds (reports/ sits above the runner, so the CLI wires them in). */
async function reporterFactory(): Promise<CreateReporters> {
  const { createReporters } = await import('../../reports/index');
  return (specs, ctx) => createReporters(specs, ctx);
}

/** `--broken-server a,b`: every name must be a mode the reference server has (a typo would silently test nothing). */
function brokenModes(arg: string): string[] {
  const names = arg
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !isBrokenMode(n));
  if (bad.length)
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `--broken-server: unknown mode${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}; modes: ${BROKEN_MODES.join(', ')}`,
    );
  return names;
}
