import type { Platform } from '../../protocol/records';

/** A test token for a virtual user's device (POST /auth/test-token; test-mode servers only). */
export async function fetchTestToken(
  serverUrl: string,
  userId: string,
  deviceId: string,
  platform: Platform,
  /** The VU's own transport: with the global fetch (undici), first-sync token requests were 7 % of the generator's CPU. */
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const res = await fetchImpl(`${serverUrl.replace(/\/$/, '')}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform }),
  });
  if (!res.ok)
    throw new Error(
      `HRN_ERR_VU_TOKEN: POST /auth/test-token answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
    );
  return ((await res.json()) as { token: string }).token;
}
