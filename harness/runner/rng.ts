/** The seeded PRNG lives in protocol/ (devices, faults and the runner all draw from it). */
export { Rng, randomSeed } from '../../protocol/rng';
