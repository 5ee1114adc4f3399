/** Test tokens from the server's /auth/test-token, cached until shortly before they expire. */
import type { Platform } from '../../protocol/records';
import { HarnessError } from '../config/errors';

export function tokenProvider(
  serverUrl: string,
  userId: string,
  deviceId: string,
  platform: Platform,
  expiresInSeconds = 3600,
) {
  let cached: { token: string; until: number } | undefined;
  let issued = 0;
  const get = async (o?: { refresh?: boolean }): Promise<string> => {
    if (cached && !o?.refresh && Date.now() < cached.until) return cached.token;
    let res: Response;
    try {
      res = await fetch(`${serverUrl}/auth/test-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId, deviceId, platform, expiresInSeconds }),
      });
    } catch (e) {
      throw new HarnessError('HRN_ERR_TARGET', `could not get a test token from ${serverUrl}: ${(e as Error).message}`);
    }
    if (!res.ok)
      throw new HarnessError(
        'HRN_ERR_TARGET',
        `${serverUrl}/auth/test-token answered ${res.status}: ${(await res.text()).slice(0, 300)} (the server must run in test mode)`,
      );
    const { token } = (await res.json()) as { token: string };
    // Renewed a minute early, except short-lived tokens (the token-refresh scenario): those are used
    // until the server refuses them and the device asks with `refresh`, which is what it must survive.
    // (Renewed at their expiry, a 401 came only when a request was in flight across it: the web
    // client's 10 s first sync saw two in one run and none in the next.)
    cached = {
      token,
      until: expiresInSeconds > 120 ? Date.now() + (expiresInSeconds - 60) * 1000 : Number.POSITIVE_INFINITY,
    };
    issued++;
    return token;
  };
  return Object.assign(get, { issued: () => issued });
}
