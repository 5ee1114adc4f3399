/**
 * Tokens for a target, per user and device, as its adapter's `auth` says. The gateway hands devices
 * an opaque handle (what `/auth/test-token` answers) and keeps the target's real token behind it, so
 * a token the target expires is refreshed once, in one place, for every device kind.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { AuthContext, ResolvedAdapter } from './types';
import { AdapterMismatch, field } from './wire';

const run = promisify(execFile);

export class TargetAuth {
  /** handle → the device it stands for and the target's current token. */
  private readonly sessions = new Map<string, { ctx: AuthContext; token?: string }>();

  constructor(
    private readonly adapter: ResolvedAdapter,
    private readonly targetUrl: string,
  ) {}

  /** What `/auth/test-token` answers a device. For `test-token` targets, their own token (nothing to hide). */
  async issue(ctx: AuthContext & { expiresInSeconds?: number }): Promise<{ status: number; body: unknown }> {
    const auth = this.adapter.auth;
    if (auth.kind === 'test-token') {
      const res = await fetch(this.targetUrl + (auth.path ?? '/auth/test-token'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ctx),
      });
      const text = await res.text();
      if (res.status === 404 || res.status === 405)
        throw new AdapterMismatch(
          `test token answered ${res.status} at POST ${auth.path ?? '/auth/test-token'}: set adapter.auth (login, command, bearer or none)`,
          'auth',
        );
      return { status: res.status, body: safeJson(text) };
    }
    const handle = `gw.${randomUUID()}`;
    const session: { ctx: AuthContext; token?: string } = { ctx };
    this.sessions.set(handle, session);
    session.token = await this.fetchToken(ctx);
    return { status: 200, body: { token: handle } };
  }

  /** The Authorization header to send for a device's handle (undefined: send none). */
  async header(deviceAuth: string | undefined, refresh = false): Promise<string | undefined> {
    const auth = this.adapter.auth;
    if (auth.kind === 'test-token') return deviceAuth;
    if (auth.kind === 'none') return undefined;
    const handle = deviceAuth?.replace(/^Bearer\s+/i, '') ?? '';
    const s = this.sessions.get(handle);
    if (!s) return deviceAuth; // not ours (a test sending a bad token on purpose): passed on unchanged
    if (refresh || !s.token) s.token = await this.fetchToken(s.ctx);
    return `Bearer ${s.token}`;
  }

  /** True when a 401 can be cured by logging in again (the target expired its token). */
  canRefresh(deviceAuth: string | undefined): boolean {
    const k = this.adapter.auth.kind;
    return (k === 'login' || k === 'command') && this.sessions.has(deviceAuth?.replace(/^Bearer\s+/i, '') ?? '');
  }

  private async fetchToken(ctx: AuthContext): Promise<string | undefined> {
    const auth = this.adapter.auth;
    switch (auth.kind) {
      case 'none':
      case 'test-token':
        return undefined;
      case 'bearer':
        return auth.token.startsWith('$') ? (process.env[auth.token.slice(1)] ?? '') : auth.token;
      case 'command': {
        const { stdout } = await run('sh', ['-c', auth.command], {
          env: {
            ...process.env,
            HARNESS_USER_ID: ctx.userId,
            HARNESS_DEVICE_ID: ctx.deviceId,
            HARNESS_PLATFORM: ctx.platform,
          },
          timeout: 30_000,
        }).catch((e: Error) => {
          throw new AdapterMismatch(`adapter.auth.command failed: ${e.message}`, 'auth.command');
        });
        const token = stdout.trim();
        if (!token) throw new AdapterMismatch('adapter.auth.command printed no token', 'auth.command');
        return token;
      }
      case 'login': {
        const method = auth.method ?? 'POST';
        const res = await fetch(this.targetUrl + auth.path, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify(auth.body(ctx)) } : {}),
        });
        const text = await res.text();
        if (!res.ok)
          throw new AdapterMismatch(
            `login answered ${res.status} at ${method} ${auth.path}: ${text.slice(0, 200)} (check adapter.auth.path and adapter.auth.body)`,
            'auth.path',
          );
        const json = safeJson(text);
        const token = field(json, auth.tokenField);
        if (typeof token !== 'string' || !token)
          throw new AdapterMismatch(
            `login answer has no string at "${auth.tokenField}" (it has: ${json && typeof json === 'object' ? Object.keys(json).join(', ') : typeof json}): set adapter.auth.tokenField`,
            'auth.tokenField',
          );
        return token;
      }
    }
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
