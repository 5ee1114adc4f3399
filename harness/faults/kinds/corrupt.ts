/**
 * Bodies corrupted in flight (RFC 0006 §5.4 checksums): one byte flipped in `percent` % of the sync
 * bodies that carry an end-to-end check (Content-Digest, or gzip's CRC-32), through the embedded
 * proxy's `corrupt` toxic. Start lines, headers and small identity bodies are left alone: the contract
 * defines no checksum for those, so altering them would test nothing but luck.
 */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    corrupt: { device: string; percent: number; direction?: 'upstream' | 'downstream' | 'both' };
  }
}

export const fault = defineFault({
  kind: 'corrupt',
  summary: 'one byte flipped in N % of the checksummed HTTP bodies (embedded proxy only)',
  fields: {
    device: field.device,
    percent: field.number(0, 100),
    direction: field.optional(field.oneOf(['upstream', 'downstream', 'both'])),
  },
  targets: (f) => [f.device],
  apply: (f, ctx) => ctx.network(f.device).corrupt(f.percent, f.direction),
  heal: (f, ctx) => ctx.network(f.device).heal(),
});
