/**
 * A WebSocket as an Rpc endpoint (devices/common/rpc.ts): JSON text frames. Uses only the WHATWG
 * surface (`send`, `addEventListener('message')`), which React Native's WebSocket, browsers and the
 * `ws` package all have, so the app and the harness share it.
 */
import type { Endpoint } from '../common/rpc';

export interface MinimalWebSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close' | 'open', listener: (ev: unknown) => void): void;
  addEventListener(type: 'error', listener: (ev: unknown) => void): void;
  removeEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const OPEN = 1;

export function wsEndpoint(ws: MinimalWebSocket): Endpoint {
  const wrapped = new Map<(m: any) => void, (ev: { data: unknown }) => void>();
  return {
    postMessage(m) {
      // A message after the socket closed is dropped: Rpc.close() fails the caller's pending calls.
      if (ws.readyState === OPEN) ws.send(JSON.stringify(m));
    },
    on(_event, listener) {
      const w = (ev: { data: unknown }) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(ev.data));
        } catch {
          return; // not ours; the handshake already checked the peer speaks the protocol
        }
        listener(msg);
      };
      wrapped.set(listener, w);
      ws.addEventListener('message', w);
    },
    off(_event, listener) {
      const w = wrapped.get(listener);
      if (w) ws.removeEventListener('message', w);
      wrapped.delete(listener);
    },
  };
}

/** Next message parsed as JSON (the handshake, before the Rpc is attached). */
export function nextJson(ws: MinimalWebSocket, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ws.removeEventListener('message', on);
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (ev: { data: unknown }) => {
      clearTimeout(t);
      ws.removeEventListener('message', on);
      try {
        resolve(JSON.parse(String(ev.data)));
      } catch (e) {
        reject(new Error(`not JSON: ${(e as Error).message}`));
      }
    };
    ws.addEventListener('message', on);
  });
}
