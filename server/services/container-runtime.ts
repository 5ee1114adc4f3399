/**
 * Is a container runtime there? One answer for every provider (PostgreSQL, Toxiproxy). Importing
 * testcontainers alone costs seconds, so look for a socket or an override first and only then ask it.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Environment overrides and sockets that suggest Docker or Podman may answer. */
export function containerRuntimeHints(): string[] {
  if (process.platform === 'win32') return ['npipe'];
  const hints: string[] = [];
  for (const k of ['DOCKER_HOST', 'TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE', 'TESTCONTAINERS_HOST_OVERRIDE']) {
    if (process.env[k]) hints.push(`$${k}`);
  }
  const home = homedir();
  const uid = process.getuid?.();
  const xdg = process.env.XDG_RUNTIME_DIR;
  const paths = [
    join(home, '.testcontainers.properties'),
    '/var/run/docker.sock',
    '/run/docker.sock',
    join(home, '.docker', 'run', 'docker.sock'),
    join(home, '.docker', 'desktop', 'docker.sock'),
    xdg ? join(xdg, 'docker.sock') : '',
    xdg ? join(xdg, 'podman', 'podman.sock') : '',
    uid !== undefined ? `/run/user/${uid}/docker.sock` : '',
    '/run/podman/podman.sock',
  ];
  for (const p of paths) if (p && existsSync(p)) hints.push(p);
  return hints;
}

export async function containerRuntimeAvailable(timeoutMs = 5000): Promise<{ ok: boolean; why: string }> {
  if (containerRuntimeHints().length === 0) {
    return { ok: false, why: 'no DOCKER_HOST, no ~/.testcontainers.properties and no Docker/Podman socket found' };
  }
  try {
    const tc = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const client = await Promise.race([
      tc.getContainerRuntimeClient(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return { ok: true, why: `container runtime at ${client.info.containerRuntime.host} answers` };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}
