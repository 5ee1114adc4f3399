/**
 * Seeded generator of hostile requests for the sync API (issue #18): NULs, lone surrogates,
 * invalid UTF-8, wrong types, huge and future numbers, gzip bombs, deep nesting, unknown names,
 * broken encodings and tokens, stalled connections. Roughly a tenth are well-formed, so the server
 * keeps changing state while it is attacked.
 */
import { gzipSync } from 'node:zlib';
import { Rng } from '../../protocol/rng';
import { TABLE_NAMES, TABLES, type TableName } from '../../protocol/tables';

export interface FuzzRequest {
  kind: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Open a raw socket, send this much, then stall until the server closes it. */
  stall?: Buffer;
}

export interface FuzzState {
  token: string;
  otherUserToken: string;
  deviceId: string;
  /** The device's last pull timestamp (a valid push must not be older). */
  lastPulledAt: number;
}

const BAD_TEXT = ['\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\udc00y', '\ud83d', '\u0000\ud800'];
const WRONG_VALUES: unknown[] = ['123', true, [], {}, [1], { a: 1 }, 1e308, -1e308, 2 ** 53 + 2, -1, 1.5, '', 'null'];
const HUGE_NUMBERS = ['1e309', '-1e309', '123456789012345678901234567890', '9e15', '-0', '1E400'];

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const jsonHeaders = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  ...extra,
});

/** 50 MB of spaces in ~50 KB of gzip: a bomb the 10 MB body limit must stop. */
let bomb: Buffer | undefined;
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
  return bomb;
}

export class FuzzGenerator {
  readonly rng: Rng;
  private n = 0;
  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }

  private id(): string {
    return `fz-${this.seed}-${this.n++}`;
  }

  private record(table: TableName): Record<string, unknown> {
    const rec: Record<string, unknown> = { id: this.id() };
    for (const c of TABLES[table].columns) {
      if (this.rng.chance(0.5)) continue;
      rec[c.name] =
        c.type === 'number' ? this.rng.int(0, 1_000_000) : c.name === 'date' ? '2026-12-07' : `v${this.rng.int(0, 99)}`;
    }
    return rec;
  }

  private validBody(s: FuzzState): Record<string, unknown> {
    const table = this.rng.pick(TABLE_NAMES);
    const created = Array.from({ length: this.rng.int(1, 3) }, () => this.record(table));
    return {
      changes: { [table]: { created, updated: [], deleted: this.rng.chance(0.3) ? [this.id()] : [] } },
      lastPulledAt: s.lastPulledAt,
      deviceId: s.deviceId,
      ...(this.rng.chance(0.5) ? { pushId: this.id() } : {}),
    };
  }

  private push(s: FuzzState, kind: string, body: Buffer, extra: Record<string, string> = {}): FuzzRequest {
    return { kind, method: 'POST', path: '/sync/push', headers: jsonHeaders(s.token, extra), body };
  }

  /** One body mutation; each breaks exactly one rule of the contract. */
  private mutated(s: FuzzState): FuzzRequest {
    const b = this.validBody(s);
    const [table, tc] = Object.entries(b.changes as Record<string, Record<string, any[]>>)[0]!;
    const rec = tc.created![0]!;
    const bad = this.rng.pick(BAD_TEXT);
    const stringCol = TABLES[table as TableName].columns.find((c) => c.type === 'string')!.name;
    const numberCol = TABLES[table as TableName].columns.find((c) => c.type === 'number')!.name;
    const m = this.rng.pick([
      'bad-text-id',
      'bad-text-column',
      'bad-text-deleted',
      'bad-text-pushId',
      'bad-text-deviceId',
      'wrong-type-lastPulledAt',
      'wrong-type-number-column',
      'wrong-type-string-column',
      'wrong-type-id',
      'wrong-type-deleted',
      'future-lastPulledAt',
      'unknown-field',
      'unknown-table',
      'unknown-column',
      'duplicate-id',
      'deep-value',
      'missing-arrays',
      'changes-array',
      'deviceId-mismatch',
    ] as const);
    switch (m) {
      case 'bad-text-id':
        rec.id = `${rec.id}${bad}`;
        break;
      case 'bad-text-column':
        rec[stringCol] = `t${bad}`;
        break;
      case 'bad-text-deleted':
        tc.deleted = [bad];
        break;
      case 'bad-text-pushId':
        b.pushId = `p${bad}`;
        break;
      case 'bad-text-deviceId':
        b.deviceId = `${s.deviceId}${bad}`;
        break;
      case 'wrong-type-lastPulledAt':
        b.lastPulledAt = this.rng.pick([String(s.lastPulledAt), null, s.lastPulledAt + 0.5, ...WRONG_VALUES]);
        break;
      case 'wrong-type-number-column':
        rec[numberCol] = this.rng.pick(WRONG_VALUES.filter((v) => typeof v !== 'number'));
        break;
      case 'wrong-type-string-column':
        rec[stringCol] = this.rng.pick(WRONG_VALUES.filter((v) => typeof v !== 'string'));
        break;
      case 'wrong-type-id':
        rec.id = this.rng.pick([...WRONG_VALUES.filter((v) => typeof v !== 'string'), '', 'x'.repeat(129)]);
        break;
      case 'wrong-type-deleted':
        tc.deleted = [this.rng.pick([...WRONG_VALUES.filter((v) => typeof v !== 'string'), ''])];
        break;
      case 'future-lastPulledAt':
        b.lastPulledAt = this.rng.pick([9e15, Date.now() + 3_600_000, s.lastPulledAt + 1_000_000]);
        break;
      case 'unknown-field':
        b[this.rng.pick(['schemaVersion', 'extra', '__proto__x', `k${bad}`])] = 1;
        break;
      case 'unknown-table':
        (b.changes as Record<string, unknown>)[this.rng.pick(['workouts', '', `goals${bad}`, 'GOALS'])] = tc;
        break;
      case 'unknown-column':
        rec[this.rng.pick(['colour', '_stamp', 'user_id', `c${bad}`, ''])] = 1;
        break;
      case 'duplicate-id':
        tc.created!.push({ ...rec });
        break;
      case 'deep-value': {
        let v: unknown = 1;
        for (let i = 0; i < 1_000; i++) v = this.rng.chance(0.5) ? [v] : { a: v };
        rec[stringCol] = v;
        break;
      }
      case 'missing-arrays':
        delete tc.updated;
        break;
      case 'changes-array':
        b.changes = [tc];
        break;
      case 'deviceId-mismatch':
        b.deviceId = 'someone-elses-device';
        break;
    }
    return this.push(s, `push:${m}`, json(b));
  }

  /** Byte-level damage: invalid UTF-8, truncation, huge numbers in the text, encodings, bombs, nesting. */
  private raw(s: FuzzState): FuzzRequest {
    const valid = json(this.validBody(s));
    const m = this.rng.pick([
      'invalid-utf8',
      'truncated',
      'empty',
      'huge-number-text',
      'gzip-bomb',
      'gzip-upper',
      'gzip-corrupt',
      'identity',
      'unsupported-encoding',
      'text-plain',
      'no-content-type',
      'deep-nesting',
      'not-object',
      'proto-pollution',
    ] as const);
    switch (m) {
      case 'invalid-utf8': {
        const at = valid.indexOf('"v') >= 0 ? valid.indexOf('"v') + 1 : valid.indexOf('"fz-') + 1;
        const junk = this.rng.pick([
          [0xc3, 0x28],
          [0xff],
          [0xed, 0xa0, 0x80],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
          [0x80],
        ]);
        return this.push(s, `raw:${m}`, Buffer.concat([valid.subarray(0, at), Buffer.from(junk), valid.subarray(at)]));
      }
      case 'truncated':
        return this.push(s, `raw:${m}`, valid.subarray(0, this.rng.int(1, valid.length - 1)));
      case 'empty':
        return this.push(s, `raw:${m}`, Buffer.alloc(0));
      case 'huge-number-text':
        return this.push(
          s,
          `raw:${m}`,
          Buffer.from(valid.toString().replace(/"lastPulledAt":\d+/, `"lastPulledAt":${this.rng.pick(HUGE_NUMBERS)}`)),
        );
      case 'gzip-bomb':
        return this.push(s, `raw:${m}`, gzipBomb(), { 'content-encoding': 'gzip' });
      case 'gzip-upper':
        return this.push(s, `raw:${m}`, gzipSync(valid), {
          'content-encoding': this.rng.pick(['GZIP', 'Gzip', ' gzip']),
        });
      case 'gzip-corrupt': {
        const z = gzipSync(valid);
        z[this.rng.int(10, z.length - 1)] ^= 0xff;
        return this.push(s, `raw:${m}`, z, { 'content-encoding': 'gzip' });
      }
      case 'identity':
        return this.push(s, `raw:${m}`, valid, { 'content-encoding': this.rng.pick(['identity', 'IDENTITY']) });
      case 'unsupported-encoding':
        return this.push(s, `raw:${m}`, valid, {
          'content-encoding': this.rng.pick(['zstd', 'br', 'x-zip', 'gzip, gzip']),
        });
      case 'text-plain':
        return this.push(s, `raw:${m}`, valid, { 'content-type': 'text/plain' });
      case 'no-content-type': {
        const r = this.push(s, `raw:${m}`, valid);
        delete r.headers['content-type'];
        return r;
      }
      case 'deep-nesting': {
        const d = this.rng.int(1_000, 200_000);
        const open = this.rng.chance(0.5) ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        return this.push(s, `raw:${m}`, Buffer.from(`{"changes":${open.repeat(d)}1${close.repeat(d)}}`));
      }
      case 'not-object':
        return this.push(s, `raw:${m}`, Buffer.from(this.rng.pick(['[]', '1', '"x"', 'null', 'true'])));
      case 'proto-pollution':
        return this.push(s, `raw:${m}`, Buffer.from('{"__proto__":{"polluted":1},"changes":{}}'));
    }
  }

  private pull(s: FuzzState): FuzzRequest {
    const parts: string[] = [];
    const lp = this.rng.pick([
      String(s.lastPulledAt),
      '0',
      'null',
      'abc',
      '1.5',
      '-1',
      '9007199254740992',
      '1e3',
      '',
      '%00',
      '%ZZ',
      '%ED%A0%80',
      '99999999999999999999',
    ]);
    if (this.rng.chance(0.95)) parts.push(`lastPulledAt=${lp}`);
    if (this.rng.chance(0.5))
      parts.push(`schemaVersion=${this.rng.pick(['1', '2', '3', '0', '2.0', 'x', '', '%202'])}`);
    if (this.rng.chance(0.8))
      parts.push(
        `deviceId=${this.rng.pick([s.deviceId, '', 'other', `${s.deviceId}%00`, `${s.deviceId}%ED%B0%80`, 'd'.repeat(200)])}`,
      );
    if (this.rng.chance(0.4))
      parts.push(`tables=${this.rng.pick(['goals', 'goals,users', '', 'nope', 'goals,', '%20goals', 'goals%00'])}`);
    if (this.rng.chance(0.1)) parts.push(this.rng.pick(['since=1', 'lastPulledAt=0', '%C3%28=1', 'tables']));
    return {
      kind: 'pull',
      method: 'GET',
      path: `/sync/pull?${this.rng.shuffle(parts).join('&')}`,
      headers: {
        authorization: `Bearer ${s.token}`,
        ...(this.rng.chance(0.2) ? { 'x-schema-version': this.rng.pick(['2', 'two', '1', '3', '2, 2']) } : {}),
      },
    };
  }

  private token(): FuzzRequest {
    const bad = this.rng.pick(BAD_TEXT);
    const body = this.rng.pick<unknown>([
      { userId: `fz-u${bad}`, deviceId: 'd', platform: 'IOS' },
      { userId: 'fz-u', deviceId: `d${bad}`, platform: 'IOS' },
      { userId: 'fz-u', deviceId: 'd', platform: 'NOKIA' },
      { userId: 'fz-u', deviceId: 'd', platform: 'IOS', expiresInSeconds: '60' },
      { userId: 'fz-u', deviceId: 'd', platform: 'IOS', admin: true },
      { userId: 5, deviceId: [], platform: null },
      [],
    ]);
    return {
      kind: 'token',
      method: 'POST',
      path: '/auth/test-token',
      headers: { 'content-type': 'application/json' },
      body: json(body),
    };
  }

  private auth(s: FuzzState): FuzzRequest {
    const tokens = [
      '',
      'Bearer',
      'Bearer x.y.z',
      `Basic ${s.token}`,
      `Bearer ${s.token}x`,
      `Bearer ${s.otherUserToken}`,
    ];
    const r = this.push(s, 'auth', json(this.validBody(s)));
    const t = this.rng.pick(tokens);
    if (t) r.headers.authorization = t;
    else delete r.headers.authorization;
    return r;
  }

  private misc(s: FuzzState): FuzzRequest {
    const [method, path] = this.rng.pick([
      ['GET', '/sync/push'],
      ['PUT', '/sync/push'],
      ['DELETE', '/sync/pull'],
      ['GET', '/nope'],
      ['GET', '/sync/events?deviceId=%00'],
      ['GET', '/sync/events?x=1'],
      ['POST', '/files/upload-url'],
      ['GET', '/%ZZ'],
    ] as const);
    return { kind: 'misc', method, path, headers: { authorization: `Bearer ${s.token}` } };
  }

  private stall(s: FuzzState): FuzzRequest {
    const head = `POST /sync/push HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n`;
    const cut = this.rng.pick(['', head.slice(0, this.rng.int(1, head.length - 5)), `${head}{"changes":{`]);
    return { kind: 'stall', method: 'POST', path: '/sync/push', headers: {}, stall: Buffer.from(cut) };
  }

  next(s: FuzzState): FuzzRequest {
    const k = this.rng.weighted({
      valid: 8,
      validPull: 4,
      mutated: 38,
      raw: 20,
      pull: 18,
      token: 4,
      auth: 4,
      misc: 3,
      stall: 1,
    });
    switch (k) {
      case 'valid':
        return this.push(s, 'push:valid', json(this.validBody(s)));
      case 'validPull':
        return {
          kind: 'pull:valid',
          method: 'GET',
          path: `/sync/pull?lastPulledAt=${s.lastPulledAt}&schemaVersion=2&deviceId=${s.deviceId}`,
          headers: { authorization: `Bearer ${s.token}` },
        };
      case 'mutated':
        return this.mutated(s);
      case 'raw':
        return this.raw(s);
      case 'pull':
        return this.pull(s);
      case 'token':
        return this.token();
      case 'auth':
        return this.auth(s);
      case 'misc':
        return this.misc(s);
      case 'stall':
        return this.stall(s);
    }
  }
}
