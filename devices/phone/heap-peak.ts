/**
 * The phone's memory as the RFC means it (§5.2 "< 50 MB" is what the client holds): V8's used heap
 * after a full collection. Without one, the used heap counts garbage the collector has not reached
 * yet, which moves with GC timing (flaky-network, seed 1: 51.7 MB without a collection, 13.1 MB live)
 * and says nothing about the app.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

export interface HeapBytes {
  usedHeap: number;
  totalHeap: number;
  external: number;
  malloced: number;
}

/** The heap after a full collection: live bytes only. */
export function liveHeapBytes(): HeapBytes {
  collect();
  const h = getHeapStatistics();
  return {
    usedHeap: h.used_heap_size,
    totalHeap: h.total_heap_size,
    external: h.external_memory ?? 0,
    malloced: h.malloced_memory,
  };
}

/** A sample under the peak by less than this cannot move the reported peak enough to matter. */
const MARGIN_BYTES = 512 * 1024;
/** Forced collections at most this often while sampling (a sync's phase boundaries force one anyway). */
const MIN_GC_INTERVAL_MS = 50;

/**
 * Peak live heap over a sync, sampled often, collecting rarely. A full collection at every 10 ms
 * sample made the phone's thread spend 94 % of its CPU in the collector during load-1000-concurrent
 * (16.1 of 17.1 s busy): its syncs there last seconds, so hundreds of collections each, and that CPU
 * was taken from the server under test. The live heap is never above the used heap, so a sample whose
 * used heap is within MARGIN of the peak cannot raise it and needs no collection.
 */
export class LiveHeapPeak {
  peak: number;
  collections = 1;
  private lastGcAt = performance.now();
  constructor() {
    this.peak = liveHeapBytes().usedHeap;
  }
  /** `force`: collect regardless of the interval (a point where the live set is known to peak). */
  sample(force = false): void {
    if (getHeapStatistics().used_heap_size <= this.peak + MARGIN_BYTES) return;
    const now = performance.now();
    if (!force && now - this.lastGcAt < MIN_GC_INTERVAL_MS) return;
    this.lastGcAt = now;
    this.collections++;
    this.peak = Math.max(this.peak, liveHeapBytes().usedHeap);
  }
}
