import { defineScenario } from '../harness/index';

const SLOT_MS = 15 * 60_000;
const SLOTS_PER_DAY = 96;

/**
 * RFC 0006 §2.2.5 background fetch every 15 minutes for a simulated day, on every device kind: three
 * phones that differ only in their radio (LTE, Wi-Fi, 3G), the web client's laptop on Wi-Fi, a
 * protocol-level virtual user on LTE, and a watch that connects to its phone once an hour. The energy
 * model (devices/energy, devices/radio/energy.ts) turns each sync into battery %; the report shows it
 * per sync and per day, modelled beside measured (empty without real hardware).
 *
 * Time-scaled: a day runs in about 40 s. The proxies carry no latency preset, so 96 rounds of syncs
 * fit that minute; the model charges air time at least at the radio's own link rate, and the tail,
 * which dominates a small sync's cost, does not depend on the transfer.
 */
export default defineScenario({
  name: 'battery-background-sync',
  title: 'Battery per sync and per day: 15-minute background fetch over a day, LTE vs Wi-Fi vs 3G',
  tags: ['battery', 'energy'],
  timeScale: 2400,
  devices: {
    phoneLte: { kind: 'phone', radio: 'lte' },
    phoneWifi: { kind: 'phone', radio: 'wifi' },
    phone3g: { kind: 'phone', radio: '3g' },
    laptop: { kind: 'web', radio: 'wifi', battery: { wh: 50 } },
    vu: { kind: 'vu', radio: 'lte', battery: { mAh: 3000 } },
    watch: { kind: 'watch', pairedWith: 'phoneWifi', linkProfile: 'ios-typical' },
  },
  // Checkers and thresholds see every sync; the day is the workload.
  timeoutMs: 120_000,
  async workload({ devices, clock, sleep, expect, note }) {
    const { watch, ...cloud } = devices;
    const syncers = Object.values(cloud);
    const t0 = clock.now();
    let behind = 0;
    for (let slot = 1; slot <= SLOTS_PER_DAY; slot++) {
      // Wait for the slot on the device clock (not a fixed sleep), so the time a round takes does
      // not stretch the day.
      const wait = t0 + slot * SLOT_MS - clock.now();
      if (wait > 0) await sleep(wait);
      else behind++;
      // A little new data each hour, as a user's day has; most fetches find nothing to send.
      if (slot % 4 === 0)
        await devices.phoneLte!.create('daily_metrics', { date: `hour-${slot / 4}`, readiness: (slot / 4) % 10 });
      await Promise.all(syncers.map((d) => d.sync('background_fetch')));
      if (slot % 4 === 0) await watch!.sync('watch_connect');
    }
    // A round that outlasts its slot in wall time (a loaded machine: 375 ms wall per slot at this
    // scale) starts the next one late, so rounds are at least 15 device minutes apart, never closer:
    // radio tails (seconds) never overlap and each fetch is charged as a lone one. That stretches the
    // day, not the figures per sync, so it is reported, not judged (a hung round hits timeoutMs).
    const stretch = (clock.now() - t0) / (SLOTS_PER_DAY * SLOT_MS);
    note(
      `${behind} of ${SLOTS_PER_DAY} rounds started late; the day took ${stretch.toFixed(2)}× its 24 h on the device clock`,
    );
    const per = (id: string) => {
      const e = devices[id]!.raw.energy();
      const syncs = e.details?.syncs ?? 0;
      return { perSync: syncs ? e.batteryPct / syncs : 0, pct: e.batteryPct, syncs };
    };
    const lte = per('phoneLte');
    const wifi = per('phoneWifi');
    const g3 = per('phone3g');
    for (const [id, r] of Object.entries({
      phoneLte: lte,
      phoneWifi: wifi,
      phone3g: g3,
      laptop: per('laptop'),
      vu: per('vu'),
    }))
      note(`${id}: ${r.perSync.toFixed(4)} %/sync, ${r.pct.toFixed(3)} % over the day (${r.syncs} syncs, modelled)`);
    // The watch: its transfers on the link model, plus a day of idle connection events the radio's
    // own clock did not live through (devices/watch/idle-energy.ts).
    const we = watch!.raw.energy();
    const idleH = (we.details?.idleGapMs ?? 0) / 3_600_000;
    note(
      `watch: ${we.batteryPct.toFixed(3)} % over the day, ${((we.batteryPct * 24) / Math.max(idleH, 24)).toFixed(3)} % per 24 h (${(we.details?.linkModelPct ?? 0).toFixed(4)} % transfers on the link model, the rest ${Math.round(we.details?.idleEvents ?? 0)} idle connection events over ${idleH.toFixed(1)} h)`,
    );
    expect(idleH > 20, `the watch is charged for the day's idle link (${idleH.toFixed(1)} h)`);
    const laptop = devices.laptop!.raw.energy();
    note(`laptop: ${laptop.details?.appStartedSyncs ?? 0} of its syncs were started by the web app itself (metered)`);
    expect(lte.syncs >= SLOTS_PER_DAY, `the LTE phone synced every slot (${lte.syncs})`);
    expect(lte.perSync > wifi.perSync, `LTE costs more per sync than Wi-Fi (${lte.perSync} > ${wifi.perSync} %)`);
    expect(g3.perSync > wifi.perSync, `3G costs more per sync than Wi-Fi (${g3.perSync} > ${wifi.perSync} %)`);
    expect(lte.perSync < 2, `a background sync stays under the RFC's 2 % (${lte.perSync} %)`);
  },
});
