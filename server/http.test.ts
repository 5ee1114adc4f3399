/**
 * The HTTP surface: auth and isolation, malformed input (table-driven), limits, compression, health,
 * metrics, trace ids, the not-yet-implemented file routes.
 */
import { gzipSync } from 'node:zlib';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { DEFAULT_TEST_SECRET } from './auth';
import { changes, issueToken, pulledRow, serverPerFile, TestDevice } from './test-helpers';

const server = serverPerFile();

const app = () => server.app;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('auth and isolation', () => {
  it('missing, malformed, forged and expired tokens get 401', async () => {
    const good = await issueToken(app(), 'auth-u', 'auth-d');
    const forged = await new SignJWT({ deviceId: 'auth-d', platform: 'IOS' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('auth-u')
      .setIssuer('sync-harness')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('some-other-secret'));
    const expired = await issueToken(app(), 'auth-u', 'auth-d', 'IOS', -10);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"auth-u","deviceId":"auth-d","platform":"IOS"}').toString('base64url')}.`;
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['missing', {}, /Missing Authorization/],
      ['not bearer', { authorization: `Basic ${good}` }, /must be "Bearer <token>"/],
      ['garbage', auth('not.a.jwt'), /malformed/],
      ['forged', auth(forged), /signature is invalid/],
      ['expired', auth(expired), /expired/],
      ['alg none', auth(noneAlg), /malformed|not acceptable/],
    ];
    for (const [name, headers, msg] of cases) {
      for (const req of [
        { method: 'GET' as const, url: '/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=auth-d' },
        { method: 'POST' as const, url: '/sync/push', payload: { changes: {}, lastPulledAt: 0, deviceId: 'auth-d' } },
        { method: 'GET' as const, url: '/sync/events?deviceId=auth-d' },
      ]) {
        const r = await app().inject({ ...req, headers });
        expect(r.statusCode, `${name} ${req.url}`).toBe(401);
        expect(r.json().error.code).toBe('SYNC_ERR_UNAUTHORIZED');
        expect(r.json().error.message, name).toMatch(msg);
      }
    }
    const ok = await app().inject({
      method: 'GET',
      url: '/sync/pull?lastPulledAt=0&deviceId=auth-d',
      headers: auth(good),
    });
    expect(ok.statusCode).toBe(200);
  });

  it('a user never reads or writes another user rows, even with the same record ids', async () => {
    const alice = await TestDevice.create(app(), 'alice', 'alice-phone');
    const bob = await TestDevice.create(app(), 'bob', 'bob-phone');
    await alice.pull();
    await alice.push(changes('goals', { created: [{ id: 'shared-id', title: 'alice goal' }] }));
    await bob.pull();
    expect(bob.lastPulledAt).toBeGreaterThan(0);
    const bobFull = await bob.pullRaw(0);
    expect(bobFull.body.changes.goals!.updated).toEqual([]);
    // Bob writes and deletes "shared-id": only his own row space is touched.
    await bob.push(changes('goals', { updated: [{ id: 'shared-id', title: 'bob goal' }] }));
    await bob.pull();
    await bob.push(changes('goals', { deleted: ['shared-id'] }));
    const aliceFull = await alice.pullRaw(0);
    expect(pulledRow(aliceFull.body, 'goals', 'shared-id')?.title).toBe('alice goal');
    expect(aliceFull.body.changes.goals!.deleted).toEqual([]);
  });

  it('a device id is bound to its user when the token is issued: another user gets no token (403)', async () => {
    // Issued, never used: the binding exists already.
    await issueToken(app(), 'owner', 'bound-device');
    const stolen = await app().inject({
      method: 'POST',
      url: '/auth/test-token',
      payload: { userId: 'intruder', deviceId: 'bound-device', platform: 'IOS' },
    });
    expect(stolen.statusCode).toBe(403);
    expect(stolen.json().error).toMatchObject({
      code: 'SYNC_ERR_FORBIDDEN',
      message: expect.stringMatching(/"bound-device" is bound to another user/),
    });
    // The owner may get further tokens for it.
    expect(await issueToken(app(), 'owner', 'bound-device')).toMatch(/^ey/);
  });

  it("a token from elsewhere (signed with the server's secret) for a bound device gets 403 on every route", async () => {
    await issueToken(app(), 'owner2', 'bound-device-2');
    const thief = await new SignJWT({ deviceId: 'bound-device-2', platform: 'IOS' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('intruder2')
      .setIssuer('sync-harness')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(DEFAULT_TEST_SECRET));
    const r = await app().inject({
      method: 'GET',
      url: '/sync/pull?lastPulledAt=0&deviceId=bound-device-2',
      headers: auth(thief),
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toMatch(/bound to another user/);
    const p = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: auth(thief),
      payload: { changes: changes('goals', { created: [{ id: 'x' }] }), lastPulledAt: 0, deviceId: 'bound-device-2' },
    });
    expect(p.statusCode).toBe(403);
  });

  it("the request's deviceId must match the token's", async () => {
    const t = await issueToken(app(), 'mm-user', 'mm-dev');
    const r = await app().inject({ method: 'GET', url: '/sync/pull?lastPulledAt=0&deviceId=other', headers: auth(t) });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toMatch(/does not match the token/);
  });

  it('test-token validates its body and is absent outside test mode', async () => {
    const bad = await app().inject({
      method: 'POST',
      url: '/auth/test-token',
      payload: { userId: 'u', deviceId: 'd', platform: 'NOKIA' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/platform must be one of IOS, ANDROID, WEB, WATCH_APPLE, WATCH_GARMIN/);
    for (const [payload, msg] of [
      [{ userId: 'u', deviceId: 'd', platform: 'IOS', role: 'admin' }, /unexpected field "role"/],
      [{ userId: 'u\u0000', deviceId: 'd', platform: 'IOS' }, /userId "u\\u0000" contains a NUL/],
      [{ userId: 'u', deviceId: 'd\udc00', platform: 'IOS' }, /deviceId .* lone UTF-16 surrogate/],
      [{ userId: 'u', deviceId: 'd', platform: 'IOS', expiresInSeconds: '60' }, /expiresInSeconds must be an integer/],
    ] as const) {
      const r = await app().inject({
        method: 'POST',
        url: '/auth/test-token',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().error.message).toMatch(msg);
    }
    const prod = await buildApp({
      databaseUrl: server.databaseUrl,
      testMode: false,
      jwtSecret: 's3cret',
      logLevel: 'silent',
    });
    try {
      const r = await prod.inject({
        method: 'POST',
        url: '/auth/test-token',
        payload: { userId: 'u', deviceId: 'd', platform: 'IOS' },
      });
      expect(r.statusCode).toBe(404);
    } finally {
      await prod.close();
    }
    await expect(buildApp({ databaseUrl: server.databaseUrl, testMode: false, logLevel: 'silent' })).rejects.toThrow(
      /jwtSecret/,
    );
  });
});

describe('malformed input gets 400 with a precise message, never a 5xx', () => {
  let dev: TestDevice;
  beforeAll(async () => {
    dev = await TestDevice.create(app(), 'malformed-user', 'malformed-dev');
    await dev.pull();
  });
  const base = () => ({ lastPulledAt: dev.lastPulledAt, deviceId: dev.deviceId });
  const rec = (table: string, r: unknown, where: 'created' | 'updated' = 'created') => ({
    [table]: { created: where === 'created' ? [r] : [], updated: where === 'updated' ? [r] : [], deleted: [] },
  });

  const pushCases: Array<[string, () => unknown, number, string, RegExp]> = [
    ['body is an array', () => [], 400, 'SYNC_ERR_BAD_REQUEST', /push body must be a JSON object, got an array/],
    [
      'unknown table',
      () => ({ ...base(), changes: { workouts: { created: [], updated: [], deleted: [] } } }),
      400,
      'SYNC_ERR_UNKNOWN_TABLE',
      /Unknown table "workouts"/,
    ],
    [
      'unknown column',
      () => ({ ...base(), changes: rec('goals', { id: 'g', colour: 'red' }) }),
      400,
      'SYNC_ERR_UNKNOWN_COLUMN',
      /changes\.goals\.created\[0\] has unknown column "colour"/,
    ],
    [
      'string for number',
      () => ({ ...base(), changes: rec('activities', { id: 'a', duration_s: '60' }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.activities\.created\[0\]\.duration_s must be a finite number or null, got a string/,
    ],
    [
      'number for string',
      () => ({ ...base(), changes: rec('goals', { id: 'g', title: 5 }, 'updated') }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.updated\[0\]\.title must be a string or null, got a number/,
    ],
    [
      'boolean for number',
      () => ({ ...base(), changes: rec('daily_metrics', { id: 'd', steps: true }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /steps must be a finite number or null, got a boolean/,
    ],
    [
      'missing id',
      () => ({ ...base(), changes: rec('goals', { title: 'x' }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.created\[0\]\.id must be a non-empty string/,
    ],
    [
      'missing arrays',
      () => ({ ...base(), changes: { goals: { created: [] } } }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /changes\.goals\.updated must be an array/,
    ],
    [
      'changes not an object',
      () => ({ ...base(), changes: 'x' }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /changes must be an object keyed by table name/,
    ],
    [
      'missing lastPulledAt',
      () => ({ changes: {}, deviceId: dev.deviceId }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /missing lastPulledAt/,
    ],
    [
      'negative lastPulledAt',
      () => ({ ...base(), lastPulledAt: -1, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /lastPulledAt must be a non-negative integer/,
    ],
    [
      'deviceId not a string',
      () => ({ ...base(), deviceId: 7, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /deviceId must be a non-empty string/,
    ],
    [
      'unexpected field',
      () => ({ ...base(), changes: {}, extra: 1 }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /unexpected field "extra"/,
    ],
    [
      'same id twice',
      () => ({ ...base(), changes: { goals: { created: [{ id: 'g' }], updated: [], deleted: ['g'] } } }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /record id "g" appears twice/,
    ],
    [
      'schemaVersion in the body (the contract carries it in the header)',
      () => ({ ...base(), changes: {}, schemaVersion: 2 }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /unexpected field "schemaVersion"/,
    ],
    [
      'deleted id not a string',
      () => ({ ...base(), changes: { goals: { created: [], updated: [], deleted: [42] } } }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.deleted\[0\] \(a record id\) must be a non-empty string/,
    ],
    [
      'lastPulledAt a numeric string (never coerced)',
      () => ({ ...base(), lastPulledAt: String(dev.lastPulledAt), changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /lastPulledAt must be a non-negative integer of milliseconds .*got a string/,
    ],
    [
      'lastPulledAt null',
      () => ({ ...base(), lastPulledAt: null, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /lastPulledAt must be .*got null/,
    ],
    [
      'lastPulledAt a fraction',
      () => ({ ...base(), lastPulledAt: 1.5, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /lastPulledAt must be a non-negative integer/,
    ],
    [
      'lastPulledAt beyond MAX_SAFE_INTEGER',
      () => ({ ...base(), lastPulledAt: 2 ** 60, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /no larger than 9007199254740991/,
    ],
    [
      'lastPulledAt in the future (never handed out)',
      () => ({ ...base(), lastPulledAt: 9e15, changes: {} }),
      409,
      'SYNC_ERR_FUTURE_PULL',
      /newer than any timestamp this server has given device "malformed-dev"/,
    ],
    [
      'deviceId empty',
      () => ({ ...base(), deviceId: '', changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /deviceId must be a non-empty string of at most 128 characters/,
    ],
    [
      'deviceId missing',
      () => ({ lastPulledAt: dev.lastPulledAt, changes: {} }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /deviceId must be .*the field is missing/,
    ],
    [
      'NUL in a record id',
      () => ({ ...base(), changes: rec('goals', { id: 'g\u0000' }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.created\[0\]\.id "g\\u0000" contains a NUL character/,
    ],
    [
      'NUL in a string column',
      () => ({ ...base(), changes: rec('goals', { id: 'g', title: 'a\u0000b' }, 'updated') }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.updated\[0\]\.title contains a NUL character \(\\u0000\) at position 1/,
    ],
    [
      'NUL in a deleted id',
      () => ({ ...base(), changes: { goals: { created: [], updated: [], deleted: ['\u0000'] } } }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.goals\.deleted\[0\] \(a record id\) "\\u0000" contains a NUL/,
    ],
    [
      'NUL in pushId',
      () => ({ ...base(), changes: {}, pushId: 'p\u0000' }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /pushId "p\\u0000" contains a NUL/,
    ],
    [
      'lone surrogate in a record id',
      () => ({ ...base(), changes: rec('activities', { id: '\ud800x' }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.activities\.created\[0\]\.id .* lone UTF-16 surrogate \(\\ud800\) at position 0/,
    ],
    [
      'lone surrogate in a string column',
      () => ({ ...base(), changes: rec('users', { id: 'u', name: 'x\udfff' }) }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /changes\.users\.created\[0\]\.name contains a lone UTF-16 surrogate/,
    ],
    [
      'lone surrogate in a deleted id',
      () => ({ ...base(), changes: { goals: { created: [], updated: [], deleted: ['\udc01'] } } }),
      400,
      'SYNC_ERR_WRONG_TYPE',
      /deleted\[0\] \(a record id\) .* lone UTF-16 surrogate/,
    ],
    [
      'lone surrogate in pushId',
      () => ({ ...base(), changes: {}, pushId: '\ud83d' }),
      400,
      'SYNC_ERR_BAD_REQUEST',
      /pushId .* lone UTF-16 surrogate/,
    ],
    [
      'a well-formed emoji (surrogate pair) is fine',
      () => ({ ...base(), changes: rec('goals', { id: 'emoji-\ud83d\ude00', title: '\ud83c\udfc3' }) }),
      200,
      '',
      /./,
    ],
  ];
  it.each(pushCases)('push: %s', async (_name, body, status, code, msg) => {
    const r = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: { ...auth(dev.token), 'content-type': 'application/json' },
      payload: JSON.stringify(body()),
    });
    expect(r.statusCode, r.body).toBe(status);
    if (status === 200) return;
    expect(r.json().error.code).toBe(code);
    expect(r.json().error.message).toMatch(msg);
  });

  const rawCases: Array<[string, Record<string, string>, string | Buffer, number, string, RegExp]> = [
    ['bad JSON', { 'content-type': 'application/json' }, '{"changes": {', 400, 'SYNC_ERR_BAD_JSON', /not valid JSON/],
    ['empty JSON body', { 'content-type': 'application/json' }, '', 400, 'SYNC_ERR_BAD_JSON', /body is empty/],
    [
      'text/plain body',
      { 'content-type': 'text/plain' },
      'hello',
      415,
      'SYNC_ERR_UNSUPPORTED_MEDIA',
      /application\/json/,
    ],
    [
      'gzip header but plain body',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      '{"a":1}',
      400,
      'SYNC_ERR_BAD_ENCODING',
      /could not be decoded/,
    ],
    [
      'unsupported encoding',
      { 'content-type': 'application/json', 'content-encoding': 'zstd' },
      '{}',
      415,
      'SYNC_ERR_UNSUPPORTED_MEDIA',
      /zstd/,
    ],
    [
      'invalid UTF-8 in a string (never replaced by U+FFFD)',
      { 'content-type': 'application/json' },
      Buffer.concat([
        Buffer.from('{"changes":{"goals":{"created":[{"id":"g-'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}],"updated":[],"deleted":[]}},"lastPulledAt":0,"deviceId":"malformed-dev"}'),
      ]),
      400,
      'SYNC_ERR_BAD_ENCODING',
      /not valid UTF-8 \(byte 41 starts an invalid sequence\)/,
    ],
    [
      'UTF-8 of a lone surrogate (CESU bytes ED A0 80)',
      { 'content-type': 'application/json' },
      Buffer.concat([Buffer.from('{"changes":{},"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      400,
      'SYNC_ERR_BAD_ENCODING',
      /not valid UTF-8/,
    ],
    [
      'unsupported encoding, upper case',
      { 'content-type': 'application/json', 'content-encoding': 'BR-X' },
      '{}',
      415,
      'SYNC_ERR_UNSUPPORTED_MEDIA',
      /br-x/,
    ],
    [
      'proto pollution',
      { 'content-type': 'application/json' },
      '{"__proto__": {"x": 1}, "changes": {}}',
      400,
      'SYNC_ERR_BAD_JSON',
      /./,
    ],
  ];
  it.each(rawCases)('raw body: %s', async (_name, headers, payload, status, code, msg) => {
    const r = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: { ...auth(dev.token), ...headers },
      payload,
    });
    expect(r.statusCode).toBe(status);
    expect(r.json().error.code).toBe(code);
    expect(r.json().error.message).toMatch(msg);
  });

  const pullCases: Array<[string, string, number, string, RegExp]> = [
    [
      'lastPulledAt not a number',
      'lastPulledAt=yesterday',
      400,
      'SYNC_ERR_BAD_REQUEST',
      /lastPulledAt must be a non-negative integer/,
    ],
    ['lastPulledAt twice', 'lastPulledAt=1&lastPulledAt=2', 400, 'SYNC_ERR_BAD_REQUEST', /more than once/],
    ['lastPulledAt=null', 'lastPulledAt=null', 400, 'SYNC_ERR_BAD_REQUEST', /lastPulledAt must be .*got "null"/],
    ['lastPulledAt=abc', 'lastPulledAt=abc', 400, 'SYNC_ERR_BAD_REQUEST', /lastPulledAt must be .*got "abc"/],
    ['lastPulledAt=1.5', 'lastPulledAt=1.5', 400, 'SYNC_ERR_BAD_REQUEST', /non-negative integer/],
    ['lastPulledAt=-1', 'lastPulledAt=-1', 400, 'SYNC_ERR_BAD_REQUEST', /non-negative integer/],
    ['lastPulledAt=1e3', 'lastPulledAt=1e3', 400, 'SYNC_ERR_BAD_REQUEST', /non-negative integer/],
    ['lastPulledAt with a space', 'lastPulledAt=%201', 400, 'SYNC_ERR_BAD_REQUEST', /got " 1"/],
    [
      'lastPulledAt beyond MAX_SAFE_INTEGER',
      'lastPulledAt=9007199254740992',
      400,
      'SYNC_ERR_BAD_REQUEST',
      /no larger than 9007199254740991/,
    ],
    ['lastPulledAt empty', 'lastPulledAt=', 400, 'SYNC_ERR_BAD_REQUEST', /got ""/],
    ['lastPulledAt missing', 'tables=goals', 400, 'SYNC_ERR_BAD_REQUEST', /lastPulledAt is required/],
    ['schemaVersion 2.0', 'lastPulledAt=0&schemaVersion=2.0', 400, 'SYNC_ERR_BAD_REQUEST', /must be an integer/],
    ['schemaVersion empty', 'lastPulledAt=0&schemaVersion=', 400, 'SYNC_ERR_BAD_REQUEST', /must be an integer/],
    ['tables empty', 'lastPulledAt=0&tables=', 400, 'SYNC_ERR_BAD_REQUEST', /tables is empty/],
    ['tables with a space', 'lastPulledAt=0&tables=goals,%20users', 400, 'SYNC_ERR_UNKNOWN_TABLE', /" users"/],
    ['tables trailing comma', 'lastPulledAt=0&tables=goals,', 400, 'SYNC_ERR_UNKNOWN_TABLE', /Unknown table ""/],
    ['unknown parameter', 'lastPulledAt=0&since=5', 400, 'SYNC_ERR_BAD_REQUEST', /unknown query parameter "since"/],
    ['bad percent escape', 'lastPulledAt=0&tables=%ZZ', 400, 'SYNC_ERR_BAD_REQUEST', /not valid percent-encoded UTF-8/],
    [
      'percent-encoded lone surrogate',
      'lastPulledAt=0&tables=%ED%A0%80',
      400,
      'SYNC_ERR_BAD_REQUEST',
      /not valid percent-encoded UTF-8/,
    ],
    ['unknown table', 'lastPulledAt=0&tables=goals,nope', 400, 'SYNC_ERR_UNKNOWN_TABLE', /Unknown table "nope"/],
    ['schemaVersion 3', 'lastPulledAt=0&schemaVersion=3', 412, 'SYNC_ERR_SCHEMA_VERSION', /update the app/],
    [
      'schemaVersion word',
      'lastPulledAt=0&schemaVersion=latest',
      400,
      'SYNC_ERR_BAD_REQUEST',
      /schemaVersion must be an integer/,
    ],
  ];
  it.each(pullCases)('pull: %s', async (_name, qs, status, code, msg) => {
    const r = await app().inject({
      method: 'GET',
      url: `/sync/pull?${qs}&deviceId=${dev.deviceId}`,
      headers: auth(dev.token),
    });
    expect(r.statusCode).toBe(status);
    expect(r.json().error.code).toBe(code);
    expect(r.json().error.message).toMatch(msg);
  });

  const deviceCases: Array<[string, string, RegExp]> = [
    ['empty', 'deviceId=', /deviceId must be a non-empty string/],
    ['too long', `deviceId=${'d'.repeat(129)}`, /at most 128 characters/],
    [
      'NUL',
      'deviceId=malformed-dev%00',
      /query parameter "deviceId" contains a NUL character \(\\u0000\) at position 13/,
    ],
    ['twice', 'deviceId=malformed-dev&deviceId=malformed-dev', /more than once/],
  ];
  it.each(deviceCases)('pull: deviceId %s gets 400', async (_name, qs, msg) => {
    const r = await app().inject({ method: 'GET', url: `/sync/pull?lastPulledAt=0&${qs}`, headers: auth(dev.token) });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(msg);
  });

  it('x-schema-version must be an integer too; push takes no query parameter but schemaVersion', async () => {
    const pull = await app().inject({
      method: 'GET',
      url: `/sync/pull?lastPulledAt=0&deviceId=${dev.deviceId}`,
      headers: { ...auth(dev.token), 'x-schema-version': 'two' },
    });
    expect(pull.statusCode).toBe(400);
    expect(pull.json().error.message).toMatch(
      /header x-schema-version must be an integer \(1 or 2\), got a string \("two"\)/,
    );
    const push = await app().inject({
      method: 'POST',
      url: '/sync/push?deviceId=malformed-dev',
      headers: { ...auth(dev.token), 'content-type': 'application/json' },
      payload: JSON.stringify({ ...base(), changes: {} }),
    });
    expect(push.statusCode).toBe(400);
    expect(push.json().error.message).toMatch(/unknown query parameter "deviceId"; this endpoint takes schemaVersion/);
  });

  it('rejected bodies write nothing', async () => {
    const before = await dev.pullRaw(0);
    for (const [, body, status] of pushCases) {
      if (status === 200) continue;
      await app().inject({
        method: 'POST',
        url: '/sync/push',
        headers: { ...auth(dev.token), 'content-type': 'application/json' },
        payload: JSON.stringify(body()),
      });
    }
    const after = await dev.pullRaw(0);
    expect(after.body.changes).toEqual(before.body.changes);
  });
});

describe('limits and compression', () => {
  it('Content-Encoding is case-insensitive; identity means uncompressed', async () => {
    const dev = await TestDevice.create(app(), 'enc-user', 'enc-dev');
    await dev.pull();
    const body = (id: string) =>
      JSON.stringify({
        changes: changes('goals', { created: [{ id, title: id }] }),
        lastPulledAt: dev.lastPulledAt,
        deviceId: dev.deviceId,
      });
    for (const [encoding, payload] of [
      ['GZIP', gzipSync(body('upper'))],
      ['Gzip', gzipSync(body('mixed'))],
      ['identity', body('identity')],
      ['IDENTITY', body('identity-upper')],
    ] as const) {
      const r = await app().inject({
        method: 'POST',
        url: '/sync/push',
        headers: { ...auth(dev.token), 'content-type': 'application/json', 'content-encoding': encoding },
        payload,
      });
      expect(r.statusCode, `${encoding}: ${r.body}`).toBe(200);
    }
    const all = await dev.pullRaw(0, '&tables=goals');
    expect(all.body.changes.goals!.updated.map((g) => g.id).sort()).toEqual([
      'identity',
      'identity-upper',
      'mixed',
      'upper',
    ]);
  });

  it('413 over 10 MB, plain or gzip (zip bomb)', async () => {
    const dev = await TestDevice.create(app(), 'big-user', 'big-dev');
    const big = JSON.stringify({
      changes: {},
      lastPulledAt: 0,
      deviceId: 'big-dev',
      pad: 'x'.repeat(11 * 1024 * 1024),
    });
    const r = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: { ...auth(dev.token), 'content-type': 'application/json' },
      payload: big,
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'SYNC_ERR_TOO_LARGE', message: expect.stringMatching(/10 MB/) });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // ~50 KB on the wire, 50 MB inflated
    expect(bomb.length).toBeLessThan(100 * 1024);
    const z = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: { ...auth(dev.token), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: bomb,
    });
    expect(z.statusCode).toBe(413);
    expect(z.json().error.code).toBe('SYNC_ERR_TOO_LARGE');
  });

  it('accepts gzip request bodies and gzips responses over 10 KB only', async () => {
    const dev = await TestDevice.create(app(), 'gz-user', 'gz-dev');
    await dev.pull();
    const created = Array.from({ length: 100 }, (_, i) => ({ id: `a${i}`, sport: 'run', notes: 'n'.repeat(200) }));
    const body = JSON.stringify({
      changes: changes('activities', { created }),
      lastPulledAt: dev.lastPulledAt,
      deviceId: dev.deviceId,
    });
    const r = await app().inject({
      method: 'POST',
      url: '/sync/push',
      headers: { ...auth(dev.token), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(body),
    });
    expect(r.statusCode).toBe(200);
    const small = await app().inject({
      method: 'GET',
      url: `/sync/pull?lastPulledAt=0&deviceId=${dev.deviceId}&tables=goals`,
      headers: { ...auth(dev.token), 'accept-encoding': 'gzip' },
    });
    expect(small.headers['content-encoding']).toBeUndefined();
    const large = await app().inject({
      method: 'GET',
      url: `/sync/pull?lastPulledAt=0&deviceId=${dev.deviceId}`,
      headers: { ...auth(dev.token), 'accept-encoding': 'gzip' },
    });
    expect(large.statusCode).toBe(200);
    expect(large.headers['content-encoding']).toBe('gzip');
    const { gunzipSync } = await import('node:zlib');
    const parsed = JSON.parse(gunzipSync(large.rawPayload).toString());
    expect(parsed.changes.activities.updated).toHaveLength(100);
  });
});

describe('operational endpoints', () => {
  it('healthz checks the database; metrics expose sync series; x-trace-id echoes x-request-id or traceparent', async () => {
    const h = await app().inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-123' } });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', db: 'ok' });
    expect(h.headers['x-trace-id']).toBe('req-123');
    const tp = await app().inject({
      method: 'GET',
      url: '/healthz',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(tp.headers['x-trace-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const gen = await app().inject({ method: 'GET', url: '/healthz' });
    expect(gen.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    const m = await app().inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    for (const name of [
      'sync_request_duration_seconds',
      'sync_conflicts_total',
      'sync_payload_bytes_total',
      'sync_errors_total',
    ]) {
      expect(m.body).toContain(name);
    }
    expect(m.body).toMatch(/sync_request_duration_seconds_count\{[^}]*route="\/sync\/pull"/);
    expect(m.body).toMatch(/sync_errors_total\{code="SYNC_ERR_UNAUTHORIZED"\}/);
  });

  it('file routes need auth and, on a server without an object store, answer 501 saying so; unknown routes 404 in the error shape', async () => {
    const t = await issueToken(app(), 'file-user', 'file-dev');
    for (const url of ['/files/upload-url', '/files/complete']) {
      expect((await app().inject({ method: 'POST', url, payload: {} })).statusCode).toBe(401);
      const r = await app().inject({ method: 'POST', url, headers: auth(t), payload: { fileName: 'a.fit' } });
      expect(r.statusCode).toBe(501);
      expect(r.json().error).toMatchObject({
        code: 'SYNC_ERR_NOT_IMPLEMENTED',
        message: expect.stringMatching(/without an object store/),
      });
    }
    const nf = await app().inject({ method: 'GET', url: '/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.code).toBe('SYNC_ERR_NOT_FOUND');
  });
});

it('uses the default test secret unless told otherwise', () => {
  expect(DEFAULT_TEST_SECRET.length).toBeGreaterThan(16);
});
