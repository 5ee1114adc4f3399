/**
 * Per-device network faults, always through the Toxiproxy API (toxiproxy-node-client), so the same
 * scenario runs against the embedded proxy or a real Toxiproxy. Each device has its own proxy:
 * "phone A offline while web B is online" needs nothing more.
 */
import type { Proxy as ToxiProxy, Toxiproxy } from 'toxiproxy-node-client';
import { networkPreset } from '../config/network-presets';

type ToxicBody = {
  name: string;
  type: string;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
};

export class DeviceNetwork {
  private toxicSeq = 0;
  /** Toxics that make up the device's baseline condition (its preset), restored by heal(). */
  private baseline: ToxicBody[] = [];
  private active = new Set<string>();
  /** Proxies of the same device for other upstreams (its object-store uploads): every fault applies to them too. */
  private readonly linked: DeviceNetwork[] = [];

  constructor(
    readonly deviceId: string,
    private proxy: ToxiProxy,
    readonly url: string,
  ) {}

  /**
   * A proxy for one device. `addressing` comes from the proxy provider: where a proxy may listen,
   * where a client on this host reaches it, and how the proxy reaches our server (these differ when
   * Toxiproxy runs in a container).
   */
  static async create(
    tp: Toxiproxy,
    deviceId: string,
    serverPort: number,
    addressing: {
      allocateListen(): Promise<string>;
      clientAddress(listen: string): { host: string; port: number };
      upstreamAddress(port: number): string;
    },
  ): Promise<DeviceNetwork> {
    const name = `device-${deviceId}`;
    try {
      await (await tp.get(name)).remove();
    } catch {
      /* not there: fine */
    }
    const proxy = await tp.createProxy({
      name,
      listen: await addressing.allocateListen(),
      upstream: addressing.upstreamAddress(serverPort),
    });
    const { host, port } = addressing.clientAddress(proxy.listen);
    return new DeviceNetwork(deviceId, proxy, `http://${host}:${port}`);
  }

  /** Applies this device's faults and preset to `other` too (same device, another upstream). */
  link(other: DeviceNetwork): void {
    this.linked.push(other);
  }

  private async add(t: Omit<ToxicBody, 'name'>, baseline = false): Promise<string> {
    for (const l of this.linked) await l.add(t, baseline);
    const body = { ...t, name: `${t.type}-${t.stream}-${++this.toxicSeq}` };
    await this.proxy.addToxic(body as any);
    if (baseline) this.baseline.push(body);
    else this.active.add(body.name);
    return body.name;
  }

  async setEnabled(enabled: boolean) {
    for (const l of this.linked) await l.setEnabled(enabled);
    this.proxy = await this.proxy.update({ enabled, listen: this.proxy.listen, upstream: this.proxy.upstream });
  }

  offline() {
    // Disabling refuses new connections and closes existing ones (kept-alive sockets included).
    return this.setEnabled(false);
  }

  async latency(ms: number, jitterMs = 0, baseline = false) {
    for (const stream of ['upstream', 'downstream'] as const) {
      await this.add(
        { type: 'latency', stream, toxicity: 1, attributes: { latency: Math.round(ms), jitter: Math.round(jitterMs) } },
        baseline,
      );
    }
  }

  async bandwidth(upKBps: number, downKBps = upKBps, baseline = false) {
    if (upKBps > 0)
      await this.add(
        { type: 'bandwidth', stream: 'upstream', toxicity: 1, attributes: { rate: Math.max(1, Math.round(upKBps)) } },
        baseline,
      );
    if (downKBps > 0)
      await this.add(
        {
          type: 'bandwidth',
          stream: 'downstream',
          toxicity: 1,
          attributes: { rate: Math.max(1, Math.round(downKBps)) },
        },
        baseline,
      );
  }

  async flaky(resetProbability: number, baseline = false) {
    await this.add(
      { type: 'reset_peer', stream: 'downstream', toxicity: resetProbability, attributes: { timeout: 0 } },
      baseline,
    );
  }

  slowClose(delayMs: number) {
    return this.add({
      type: 'slow_close',
      stream: 'downstream',
      toxicity: 1,
      attributes: { delay: Math.round(delayMs) },
    });
  }

  timeout(ms = 0) {
    return this.add({ type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: Math.round(ms) } });
  }

  limitData(bytes: number, direction: 'upstream' | 'downstream' = 'upstream') {
    return this.add({
      type: 'limit_data',
      stream: direction,
      toxicity: 1,
      attributes: { bytes: Math.max(1, Math.round(bytes)) },
    });
  }

  /**
   * Flip a byte in `percent` % of the HTTP bodies an end-to-end check covers (the embedded proxy's own
   * `corrupt` toxic; a real Toxiproxy has none and refuses it as an invalid toxic type).
   */
  async corrupt(percent: number, direction: 'upstream' | 'downstream' | 'both' = 'both') {
    const streams = direction === 'both' ? (['upstream', 'downstream'] as const) : [direction];
    for (const stream of streams) {
      try {
        await this.add({
          type: 'corrupt',
          stream,
          toxicity: 1,
          attributes: { percent: Math.round(percent), protected_only: 1 },
        });
      } catch (e) {
        throw new Error(
          `the corrupt fault needs the embedded proxy (services.proxy: 'embedded'); this proxy refused the toxic: ${(e as Error).message}`,
        );
      }
    }
  }

  /** Apply a named preset as this device's baseline (kept across heal()). */
  async applyPreset(name: string) {
    const p = networkPreset(name);
    if (p.offline) return this.offline();
    if (p.latencyMs) await this.latency(p.latencyMs, p.jitterMs, true);
    if (p.upKBps || p.downKBps) await this.bandwidth(p.upKBps, p.downKBps, true);
    if (p.resetProbability) await this.flaky(p.resetProbability, true);
  }

  /** Remove every fault toxic (keeping the preset baseline) and re-enable the proxy. */
  async heal() {
    for (const l of this.linked) await l.heal();
    for (const name of this.active) {
      try {
        await (await this.proxy.getToxic(name)).remove();
      } catch {
        /* already gone */
      }
    }
    this.active.clear();
    if (!this.proxy.enabled) await this.setEnabled(true);
  }

  async remove() {
    for (const l of this.linked) await l.remove();
    try {
      await this.proxy.remove();
    } catch {
      /* proxy server already gone */
    }
  }
}
