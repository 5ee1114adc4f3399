/**
 * `make fuzz`: 10,000 hostile requests against a started reference server on a fresh database.
 * Prints the seed and a histogram by status code, writes bench/results/fuzz.json, exits 1 on any
 * violation (a 5xx, a write by a rejected request, a stall held too long, a server that stopped
 * answering). `--seed N --count N`; SYNC_TEST_DATABASE_URL uses that cluster instead of an embedded one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSyncServer } from '../app';
import { createDatabase, resolvePostgres } from '../services/postgres';
import { runFuzz } from './run';

/** The deadlines the fuzz's server runs with: small, so stalls end fast; the bound allows Node's check interval. */
export const FUZZ_LIMITS = {
  headersTimeoutMs: 1000,
  requestTimeoutMs: 1500,
  idleTimeoutMs: 2000,
  keepAliveTimeoutMs: 1000,
};
export const FUZZ_STALL_BOUND_MS = 6000;

async function main() {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, count: { type: 'string' } } });
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const count = values.count !== undefined ? Number(values.count) : 10_000;
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(count) || count < 1) {
    console.error('usage: npx tsx server/fuzz/main.ts [--seed N] [--count N]  (integers)');
    process.exit(2);
  }
  console.log(`fuzz: seed ${seed}, ${count} requests (replay: make fuzz ARGS="--seed ${seed}")`);
  const url = process.env.SYNC_TEST_DATABASE_URL;
  const pg = await resolvePostgres({ mode: url ? 'url' : 'embedded', url, log: () => {} });
  const db = await createDatabase(pg.url);
  const server = await startSyncServer({ databaseUrl: db.url, logLevel: 'silent', limits: FUZZ_LIMITS });
  try {
    const r = await runFuzz(server, {
      count,
      seed,
      stallBoundMs: FUZZ_STALL_BOUND_MS,
      progress: (n) => console.log(`  ${n} requests`),
    });
    console.log(`status histogram (${Math.round(r.durationMs / 1000)} s):`);
    for (const [k, v] of Object.entries(r.histogram).sort()) console.log(`  ${k.padEnd(7)} ${v}`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/fuzz.json',
      `${JSON.stringify({ date: new Date().toISOString(), ...r, violations: r.violations.slice(0, 100) }, null, 2)}\n`,
    );
    console.log('wrote bench/results/fuzz.json');
    if (r.violations.length > 0) {
      console.error(`${r.violations.length} violations:`);
      for (const v of r.violations.slice(0, 30)) console.error(`  ${v}`);
      process.exitCode = 1;
    } else console.log('no 5xx, nothing written by a rejected request, stalls closed, server still answering');
  } finally {
    await server.close();
    await db.drop().catch(() => {});
    await pg.stop();
  }
}

await main();
