/**
 * Request-body decoding with the rules of Go's encoding/json as Toxiproxy uses it, because the
 * compat spec makes the 400s part of the contract:
 * - only the first JSON value is read (trailing bytes ignored, like json.Decoder.Decode);
 * - integers must be integral literals (`1.5`, `1e3`, `"100"` are type errors), so numbers keep
 *   their source text instead of going through JSON.parse;
 * - `null` for a field leaves it unchanged; unknown keys are ignored; keys match exactly first, then
 *   case-insensitively.
 * Error texts imitate Go's but are free-form after `bad request body: ` (spec section 3).
 */

export class GoNumber {
  constructor(readonly raw: string) {}
}
export class GoObject {
  constructor(readonly entries: Array<[string, JsonValue]>) {}
}
export type JsonValue = null | boolean | string | GoNumber | GoObject | JsonValue[];

/** A body that Go's decoder would reject; the message is what follows `bad request body: `. */
export class JsonDecodeError extends Error {}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  private fail(context: string): never {
    if (this.i >= this.s.length) throw new JsonDecodeError('unexpected EOF');
    const ch = JSON.stringify(this.s[this.i]).slice(1, -1);
    throw new JsonDecodeError(`invalid character '${ch}' ${context}`);
  }

  first(): JsonValue {
    this.ws();
    if (this.i >= this.s.length) throw new JsonDecodeError('EOF');
    return this.value();
  }

  private value(): JsonValue {
    this.ws();
    const s = this.s;
    const c = s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
      if (word.startsWith(s.slice(this.i)) && this.i < s.length) {
        this.i = s.length;
        this.fail('');
      }
    }
    return this.fail('looking for beginning of value');
  }

  private object(): GoObject {
    this.i++; // {
    const entries: Array<[string, JsonValue]> = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return new GoObject(entries);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('after object key');
      this.i++;
      entries.push([key, this.value()]);
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return new GoObject(entries);
      }
      this.fail('after object key:value pair');
    }
  }

  private array(): JsonValue[] {
    this.i++; // [
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail('after array element');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++; // opening quote
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '"') {
        this.i++;
        try {
          return JSON.parse(s.slice(start, this.i)) as string;
        } catch {
          throw new JsonDecodeError('invalid character in string literal');
        }
      }
      if (c === '\\') this.i++;
      this.i++;
    }
    throw new JsonDecodeError('unexpected EOF');
  }

  private number(): GoNumber {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m || m[0] === '-') {
      this.i++;
      this.fail('in numeric literal');
    }
    this.i += m[0].length;
    return new GoNumber(m[0]);
  }
}

/** Parses the first JSON value of a request body, as json.NewDecoder(body).Decode does. */
export function parseFirstValue(body: string): JsonValue {
  return new Parser(body).first();
}

export function jsonKind(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoNumber) return 'number';
  if (v instanceof GoObject) return 'object';
  return 'array';
}

export type FieldType = 'string' | 'bool' | 'int64' | 'float32' | 'object';

function typeError(v: JsonValue, where: string, goType: string): JsonDecodeError {
  const what = v instanceof GoNumber ? `number ${v.raw}` : jsonKind(v);
  return new JsonDecodeError(`json: cannot unmarshal ${what} into ${where} of type ${goType}`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function convert(v: JsonValue, type: FieldType, where: string): unknown {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw typeError(v, where, 'string');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(v, where, 'bool');
      return v;
    case 'int64': {
      if (!(v instanceof GoNumber) || !/^-?\d+$/.test(v.raw)) throw typeError(v, where, 'int64');
      const big = BigInt(v.raw);
      if (big < INT64_MIN || big > INT64_MAX) throw typeError(v, where, 'int64');
      return Number(big);
    }
    case 'float32': {
      if (!(v instanceof GoNumber)) throw typeError(v, where, 'float32');
      const n = Number(v.raw);
      if (!Number.isFinite(Math.fround(n))) throw typeError(v, where, 'float32');
      return n;
    }
    case 'object':
      if (!(v instanceof GoObject)) throw typeError(v, where, 'struct');
      return v;
  }
}

/**
 * Decodes an object into the listed fields (Go struct semantics). Returns only the fields present
 * with a non-null value; `null` for the whole value is a no-op (empty result).
 */
export function decodeStruct(v: JsonValue, fields: Record<string, FieldType>, goType: string): Record<string, unknown> {
  if (v === null) return {};
  if (!(v instanceof GoObject)) throw typeError(v, 'Go value', goType);
  const names = Object.keys(fields);
  const out: Record<string, unknown> = {};
  for (const [key, value] of v.entries) {
    const field = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (field === undefined || value === null) continue;
    out[field] = convert(value, fields[field]!, `Go struct field ${goType}.${field}`);
  }
  return out;
}

/** Go's float32 JSON form: the shortest decimal that round-trips through float32. */
export function float32Json(n: number): number {
  const f = Math.fround(n);
  if (f === 0 || !Number.isFinite(f)) return f;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
