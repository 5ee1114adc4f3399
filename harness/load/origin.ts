/**
 * An href split into its origin and path, the origin parsed once: a VU only ever talks to one server,
 * so a `new URL` per request would be parse work repeated for nothing. Shared by the transports
 * (transport.ts, socket-transport.ts), each keeping what it needs of the origin in its own cache.
 */
export function splitTarget<T>(
  cache: Map<string, T>,
  href: string,
  parse: (origin: URL) => T,
): { origin: T; originKey: string; path: string } {
  const slash = href.indexOf('/', href.indexOf('//') + 2);
  const originKey = slash < 0 ? href : href.slice(0, slash);
  let origin = cache.get(originKey);
  if (origin === undefined) {
    origin = parse(new URL(originKey));
    cache.set(originKey, origin);
  }
  return { origin, originKey, path: slash < 0 ? '/' : href.slice(slash) };
}
