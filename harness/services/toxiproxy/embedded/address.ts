/**
 * `host:port` handling with Go's net package semantics where the compat spec depends on them:
 * listen strings are compared in their resolved form (`localhost:0` → `127.0.0.1:0`, `` → `:0`),
 * and a bound listener is reported as `ip:port` (IPv6 bracketed).
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';

export class AddressError extends Error {}

export interface HostPort {
  /** '' means every interface. */
  host: string;
  port: number;
}

/** Go's net.SplitHostPort plus port parsing (an empty port means 0, as for net.Listen). */
export function splitHostPort(addr: string): HostPort {
  if (addr === '') return { host: '', port: 0 };
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0) throw new AddressError(`address ${addr}: missing ']' in address`);
    if (addr[end + 1] !== ':') throw new AddressError(`address ${addr}: missing port in address`);
    host = addr.slice(1, end);
    portText = addr.slice(end + 2);
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon < 0) throw new AddressError(`address ${addr}: missing port in address`);
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(':')) throw new AddressError(`address ${addr}: too many colons in address`);
  }
  let port = 0;
  if (portText !== '') {
    if (!/^\d+$/.test(portText)) throw new AddressError(`lookup tcp/${portText}: unknown port`);
    port = Number(portText);
    if (port > 65535) throw new AddressError(`address ${addr}: invalid port`);
  }
  return { host, port };
}

export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Resolves a host to one IP (IPv4 first, `localhost` pinned to 127.0.0.1 since Node may prefer ::1). */
export async function resolveHost(host: string): Promise<string> {
  if (host === '' || isIP(host) !== 0) return host;
  if (host.toLowerCase() === 'localhost') return '127.0.0.1';
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    try {
      return (await lookup(host)).address;
    } catch {
      throw new AddressError(`lookup ${host}: no such host`);
    }
  }
}

/** What Go's net.ResolveTCPAddr(addr).String() gives: the form a proxy's `listen` is compared in. */
export async function resolveListen(addr: string): Promise<{ canonical: string; host: string; port: number }> {
  const { host, port } = splitHostPort(addr);
  const ip = await resolveHost(host);
  return { canonical: joinHostPort(ip, port), host: ip, port };
}
