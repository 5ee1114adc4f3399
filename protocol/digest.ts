/**
 * RFC 9530 `Content-Digest` for sync bodies (RFC 0006 §5.4 "checksum validation for large payloads").
 * The contract defines no body checksum, so the harness uses the standard HTTP header rather than a
 * body field a strict server would reject: a server that does not know it ignores it. The digest is
 * over the content as sent, after gzip content-coding (RFC 9530 §2), so a receiver checks it before
 * inflating: a flipped byte is named as a checksum mismatch, not as a gzip or JSON error.
 * Isomorphic (WebCrypto): the web app bundles it too.
 */

/** Bodies above this get a Content-Digest (the gzip threshold: below it a body is small and sent as is). */
export const DIGEST_THRESHOLD_BYTES = 10 * 1024;

export type DigestAlgorithm = 'sha-256' | 'sha-512';
const SUBTLE: Record<DigestAlgorithm, string> = { 'sha-256': 'SHA-256', 'sha-512': 'SHA-512' };

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export async function digestOf(bytes: Uint8Array, alg: DigestAlgorithm = 'sha-256'): Promise<string> {
  const view = new Uint8Array(bytes.byteLength);
  view.set(bytes);
  return toBase64(new Uint8Array(await crypto.subtle.digest(SUBTLE[alg], view)));
}

/** The header value, `sha-256=:<base64>:` (an RFC 8941 dictionary with one byte-sequence member). */
export async function contentDigest(bytes: Uint8Array): Promise<string> {
  return `sha-256=:${await digestOf(bytes)}:`;
}

/**
 * The digests of a Content-Digest value that this side can check, by algorithm; algorithms it does not
 * know are skipped (RFC 9530 §2: a recipient ignores them). A value that is not a dictionary of
 * `name=:base64:` members is an error: a sender that means to protect its body must say it readably.
 */
export function parseContentDigest(value: string): Partial<Record<DigestAlgorithm, string>> {
  const out: Partial<Record<DigestAlgorithm, string>> = {};
  for (const member of value.split(',')) {
    const m = /^\s*([a-z][a-z0-9_*.-]*)\s*=\s*:([A-Za-z0-9+/]*={0,2}):\s*$/.exec(member);
    if (!m) throw new Error(`Content-Digest member "${member.trim()}" is not <algorithm>=:<base64>:`);
    const alg = m[1]! as DigestAlgorithm;
    if (alg in SUBTLE) out[alg] = m[2]!;
  }
  return out;
}

/**
 * Checks `bytes` against a Content-Digest value: undefined when it matches (or names no algorithm this
 * side knows), else the reason, naming what was expected and what arrived. `digest` is WebCrypto's
 * unless the caller has a faster one (the server: node:crypto).
 */
export async function digestMismatch(
  value: string,
  bytes: Uint8Array,
  digest: (bytes: Uint8Array, alg: DigestAlgorithm) => string | Promise<string> = digestOf,
): Promise<string | undefined> {
  const wanted = parseContentDigest(value);
  for (const alg of Object.keys(wanted) as DigestAlgorithm[]) {
    const got = await digest(bytes, alg);
    if (got !== wanted[alg])
      return `${alg} of the ${bytes.byteLength} bytes received is ${got}, Content-Digest says ${wanted[alg]} (the body was altered in transit)`;
  }
  return undefined;
}
