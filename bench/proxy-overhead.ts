/**
 * Embedded Toxiproxy-compatible proxy overhead (goal: < 0.3 ms added p50 per round trip and
 * >= 1 Gbit/s on loopback with no toxics). Side by side, direct vs through the proxy:
 *  - round trip: many small request/response echoes (32 bytes) on one connection, p50/p95/p99;
 *  - throughput: bulk upload to a counting sink (256 MiB by default), Gbit/s.
 * Layout "threads": echo server and proxy each in their own worker thread, the client in the main
 * thread (a proxy in its own event loop, as with `harness proxy`). Layout "single": everything in
 * one event loop, as when a scenario runs the embedded proxy in-process.
 *
 *   npx tsx bench/proxy-overhead.ts [--echoes 5000] [--mib 256] [--layout threads,single]
 *
 * Writes bench/results/proxy-overhead.json. The load average at start is recorded because the box is shared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy } from '../harness/services/toxiproxy/embedded/index';

const SELF = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------ servers (main thread or worker)

/** Echo for small messages; a message starting with 'S' switches the connection to sink mode:
 * it counts `size` bytes (given in the header) and answers one byte when they are all in. */
function startEchoServer(): Promise<Server> {
  const server = createServer({ noDelay: true }, (sock) => {
    sock.on('error', () => {});
    let sinkLeft = -1;
    sock.on('data', (d: Buffer) => {
      if (sinkLeft < 0 && d[0] === 0x53 /* S */) {
        sinkLeft = Number(d.subarray(1, 13).toString()) - (d.length - 13);
      } else if (sinkLeft >= 0) {
        sinkLeft -= d.length;
      } else {
        sock.write(d);
        return;
      }
      if (sinkLeft === 0) {
        sinkLeft = -1;
        sock.write('k');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ------------------------------------------------------------------ measurements

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
    s.on('error', () => {}); // after connect: a reset must not crash the bench
  });
}

async function roundTrips(port: number, count: number, warmup: number): Promise<number[]> {
  const sock = await connectTo(port);
  const msg = Buffer.alloc(32, 0x61);
  const rtts: number[] = [];
  let got = 0;
  let t0 = 0;
  let next: () => void = () => {};
  sock.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= msg.length) {
      got -= msg.length;
      next();
    }
  });
  for (let i = 0; i < warmup + count; i++) {
    await new Promise<void>((resolve) => {
      next = resolve;
      t0 = performance.now();
      sock.write(msg);
    });
    if (i >= warmup) rtts.push(performance.now() - t0);
  }
  sock.destroy();
  return rtts;
}

async function throughput(port: number, bytes: number): Promise<number> {
  const sock = await connectTo(port);
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  const done = new Promise<void>((resolve) => sock.once('data', () => resolve()));
  const t0 = performance.now();
  sock.write(Buffer.concat([Buffer.from('S'), Buffer.from(String(bytes).padStart(12, '0'))]));
  let sent = 0;
  while (sent < bytes) {
    const piece = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
    sent += piece.length;
    if (!sock.write(piece)) await new Promise((r) => sock.once('drain', r));
  }
  await done;
  const secs = (performance.now() - t0) / 1000;
  sock.destroy();
  return (bytes * 8) / secs / 1e9;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function summary(rtts: number[]) {
  const s = [...rtts].sort((a, b) => a - b);
  return { p50: round(pct(s, 50)), p95: round(pct(s, 95)), p99: round(pct(s, 99)), n: s.length };
}

function startWorker(role: string): Promise<{ worker: Worker; msg: { port?: number; url?: string } }> {
  // Workers do not inherit tsx's loader hooks: register them before importing this file.
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(SELF)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { role } });
  return new Promise((resolve, reject) => {
    worker.once('message', (msg) => resolve({ worker, msg }));
    worker.once('error', reject);
  });
}

async function measureLayout(layout: 'threads' | 'single', echoes: number, mib: number) {
  const stops: Array<() => Promise<unknown> | unknown> = [];
  let echoPort: number;
  let apiUrl: string;
  if (layout === 'threads') {
    const echo = await startWorker('echo');
    const proxy = await startWorker('proxy');
    echoPort = echo.msg.port!;
    apiUrl = proxy.msg.url!;
    stops.push(
      () => echo.worker.terminate(),
      () => proxy.worker.terminate(),
    );
  } else {
    const server = await startEchoServer();
    const tp = await startEmbeddedToxiproxy();
    echoPort = (server.address() as { port: number }).port;
    apiUrl = tp.url;
    stops.push(
      () => tp.close(),
      () => server.close(),
    );
  }
  const client = new Toxiproxy(apiUrl);
  const proxy = await client.createProxy({ name: 'bench', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
  const proxyPort = Number(proxy.listen.split(':').pop());

  // Interleave direct and proxied runs so background load hits both alike.
  const direct: number[] = [];
  const proxied: number[] = [];
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    direct.push(...(await roundTrips(echoPort, Math.ceil(echoes / rounds), 200)));
    proxied.push(...(await roundTrips(proxyPort, Math.ceil(echoes / rounds), 200)));
  }
  const bytes = mib * 1024 * 1024;
  const tDirect: number[] = [];
  const tProxied: number[] = [];
  for (let r = 0; r < 5; r++) {
    tDirect.push(await throughput(echoPort, bytes));
    tProxied.push(await throughput(proxyPort, bytes));
  }
  for (const stop of stops) await stop();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const d = summary(direct);
  const p = summary(proxied);
  return {
    layout,
    roundTripMs: {
      direct: d,
      proxied: p,
      addedP50: round(p.p50 - d.p50),
      addedP95: round(p.p95 - d.p95),
    },
    throughputGbps: {
      bytesPerRun: bytes,
      // Background load only ever slows a run down, so the best run is the closest to what the code can do.
      direct: {
        median: round(med(tDirect), 2),
        best: round(Math.max(...tDirect), 2),
        runs: tDirect.map((x) => round(x, 2)),
      },
      proxied: {
        median: round(med(tProxied), 2),
        best: round(Math.max(...tProxied), 2),
        runs: tProxied.map((x) => round(x, 2)),
      },
    },
  };
}

async function main() {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1]! : dflt;
  };
  const echoes = Number(arg('echoes', '5000'));
  const mib = Number(arg('mib', '256'));
  const layouts = arg('layout', 'threads,single').split(',') as Array<'threads' | 'single'>;
  const load = loadavg();
  const results = [];
  for (const layout of layouts) results.push(await measureLayout(layout, echoes, mib));

  const gbps = (t: { median: number; best: number }) => `${t.median} (${t.best})`;
  const rows = results.flatMap((r) => [
    [r.layout, 'direct', r.roundTripMs.direct.p50, r.roundTripMs.direct.p95, gbps(r.throughputGbps.direct)],
    [r.layout, 'proxied', r.roundTripMs.proxied.p50, r.roundTripMs.proxied.p95, gbps(r.throughputGbps.proxied)],
    [r.layout, 'added', r.roundTripMs.addedP50, r.roundTripMs.addedP95, ''],
  ]);
  const head = ['layout', 'path', 'RTT p50 ms', 'RTT p95 ms', 'Gbit/s median (best)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells: Array<string | number>) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));

  const out = {
    bench: 'proxy-overhead',
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverageAtStart: load.map((x) => round(x, 2)),
    goals: { addedP50Ms: 0.3, throughputGbps: 1 },
    params: { echoes, messageBytes: 32, mib },
    results,
  };
  const file = join(dirname(SELF), 'results', 'proxy-overhead.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`load average at start ${out.loadAverageAtStart.join(' / ')} on ${out.cpus} CPUs; wrote ${file}`);
}

// Entry: the same file is the main program and the worker (role in workerData).
if (!isMainThread) {
  const role = (workerData as { role: string }).role;
  if (role === 'echo') {
    const server = await startEchoServer();
    parentPort!.postMessage({ port: (server.address() as { port: number }).port });
  } else {
    const tp = await startEmbeddedToxiproxy();
    parentPort!.postMessage({ url: tp.url });
  }
  parentPort!.on('message', () => process.exit(0));
} else {
  await main();
}
