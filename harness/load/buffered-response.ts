/**
 * The response the load generator's transports (transport.ts, socket-transport.ts) hand to
 * SyncHttpClient: status, headers and the whole body, buffered.
 */

/**
 * The headers of a response as far as SyncHttpClient reads them (`get`), the names already
 * lower-cased (by node:http, or by socket-transport's parser). undici's Headers, filled per response, was 7 % of the generator's CPU.
 */
export class ResponseHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

/**
 * What SyncHttpClient reads of a response (status, ok, headers, the whole body), without a web
 * `Response`: building one per request wraps the body in a web ReadableStream, and in a profile of a
 * 1000-VU run undici's Response, its streams and their transferables were a tenth of the generator's CPU.
 */
export class BufferedResponse {
  readonly ok: boolean;
  readonly body = null;
  constructor(
    readonly status: number,
    readonly headers: ResponseHeaders,
    private readonly buf: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.buf.byteLength) as ArrayBuffer;
  }
  async text(): Promise<string> {
    return this.buf.toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.buf.toString('utf8'));
  }
}
