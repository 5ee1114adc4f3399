/**
 * Per-device retry watch (RFC 0006 §5.3 "retry attempts and failures", §3.4 "sync loop"): counts each
 * device's consecutive failed sync requests and its pulls from the same lastPulledAt that returned
 * rows, and logs `sync loop suspected` (warn) at every LOOP_AT-th repeat, with the device and the
 * count, so an operator sees continuous retries per device. In memory, per process; bounded.
 */
import type { FastifyBaseLogger } from 'fastify';

export const LOOP_AT = 5;
const MAX_DEVICES = 10_000;

interface DeviceState {
  failures: number;
  lastPulledAt?: number;
  repulls: number;
}

export class RetryWatch {
  private readonly devices = new Map<string, DeviceState>();

  private state(userId: string, deviceId: string): DeviceState {
    const key = `${userId}\u0000${deviceId}`;
    let s = this.devices.get(key);
    if (!s) {
      if (this.devices.size >= MAX_DEVICES) this.devices.delete(this.devices.keys().next().value!);
      s = { failures: 0, repulls: 0 };
      this.devices.set(key, s);
    }
    return s;
  }

  failed(log: FastifyBaseLogger, a: { userId: string; deviceId: string }, operation: string, code: string): void {
    const s = this.state(a.userId, a.deviceId);
    s.failures++;
    if (s.failures % LOOP_AT === 0)
      log.warn(
        { userId: a.userId, deviceId: a.deviceId, operation, code, consecutiveFailures: s.failures },
        'sync loop suspected: continuous retries',
      );
  }

  pulled(log: FastifyBaseLogger, a: { userId: string; deviceId: string }, lastPulledAt: number, rows: number): void {
    const s = this.state(a.userId, a.deviceId);
    s.failures = 0;
    s.repulls = rows > 0 && lastPulledAt > 0 && lastPulledAt === s.lastPulledAt ? s.repulls + 1 : 0;
    s.lastPulledAt = lastPulledAt;
    if (s.repulls > 0 && s.repulls % LOOP_AT === 0)
      log.warn(
        { userId: a.userId, deviceId: a.deviceId, lastPulledAt, rows, repeatedPulls: s.repulls + 1 },
        'sync loop suspected: the same changes pulled again',
      );
  }

  pushed(a: { userId: string; deviceId: string }): void {
    this.state(a.userId, a.deviceId).failures = 0;
  }
}
