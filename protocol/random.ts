/**
 * mulberry32: small, fast, seedable. The one PRNG of the project, so a seed means the same thing
 * in workloads, fault schedules, the radio's loss draws, load generators and test models.
 * Math.random is never used for anything that shapes a run.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
