/**
 * Named network conditions, per direction, as applied by the fault proxy. Sources: Chrome DevTools /
 * Puppeteer PredefinedNetworkConditions (slow-3g, 3g = "Slow 4G", lte = "Fast 4G") and Apple's Network
 * Link Conditioner profiles as replicated by the community (edge, wifi, very-bad); see
 * ../shared/docs/network-and-energy-references.md §4. Latency is one-way per direction, so a round
 * trip costs about 2× latency plus transfer time.
 */
export interface NetworkPreset {
  name: string;
  /** One-way latency added to each direction, ms. */
  latencyMs: number;
  jitterMs: number;
  /** KB/s (1 KB = 1000 B as Toxiproxy's bandwidth toxic uses), per direction; 0 = unlimited. */
  downKBps: number;
  upKBps: number;
  /** Probability that a connection is reset (the proxy's stand-in for packet loss on TCP). */
  resetProbability: number;
  offline?: boolean;
  source: string;
}

export const NETWORK_PRESETS: Readonly<Record<string, NetworkPreset>> = {
  wifi: {
    name: 'wifi',
    latencyMs: 1,
    jitterMs: 0,
    downKBps: 5000,
    upKBps: 4125,
    resetProbability: 0,
    source: 'Apple NLC "WiFi": 40/33 Mbps, 1 ms',
  },
  lte: {
    name: 'lte',
    latencyMs: 83,
    jitterMs: 5,
    downKBps: 1012,
    upKBps: 169,
    resetProbability: 0,
    source: 'Chrome DevTools "Fast 4G": 8.1/1.35 Mbps, 165 ms RTT applied',
  },
  '3g': {
    name: '3g',
    latencyMs: 281,
    jitterMs: 20,
    downKBps: 180,
    upKBps: 84,
    resetProbability: 0,
    source: 'Chrome DevTools "Slow 4G" (ex "Fast 3G"): 1.44 Mbps/675 kbps, 562.5 ms RTT applied',
  },
  'slow-3g': {
    name: 'slow-3g',
    latencyMs: 1000,
    jitterMs: 50,
    downKBps: 50,
    upKBps: 50,
    resetProbability: 0,
    source: 'Chrome DevTools "Slow 3G": 400 kbps, 2000 ms RTT applied',
  },
  edge: {
    name: 'edge',
    latencyMs: 420,
    jitterMs: 40,
    downKBps: 30,
    upKBps: 25,
    resetProbability: 0,
    source: 'Apple NLC "Edge": 240/200 kbps, 400/440 ms',
  },
  'very-bad': {
    name: 'very-bad',
    latencyMs: 500,
    jitterMs: 100,
    downKBps: 125,
    upKBps: 125,
    resetProbability: 0.1,
    source: 'Apple NLC "Very Bad Network": 1 Mbps, 500 ms, 10 % loss',
  },
  lossy: {
    name: 'lossy',
    latencyMs: 100,
    jitterMs: 50,
    downKBps: 225,
    upKBps: 50,
    resetProbability: 0.2,
    source: 'BrowserStack "3.5g-hspa-lossy"-like: 1.8 Mbps/400 kbps, 100–190 ms, loss as resets',
  },
  offline: {
    name: 'offline',
    latencyMs: 0,
    jitterMs: 0,
    downKBps: 0,
    upKBps: 0,
    resetProbability: 0,
    offline: true,
    source: 'Chrome DevTools "Offline"; Apple NLC "100% Loss"',
  },
};

export function networkPreset(name: string): NetworkPreset {
  const p = NETWORK_PRESETS[name];
  if (!p) throw new Error(`unknown network preset "${name}"; known: ${Object.keys(NETWORK_PRESETS).join(', ')}`);
  return p;
}
