import { describe, expect, it } from 'vitest';
import { databaseUnavailable } from './db';
import { type GatePriority, PoolGate, PUSH_BURST } from './pool-gate';

/** A job that runs until released by hand, recording the order jobs started in. */
function harness(gate: PoolGate) {
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const done: Promise<unknown>[] = [];
  const submit = (name: string, priority: GatePriority) => {
    done.push(
      gate.run(
        priority,
        () =>
          new Promise<void>((resolve) => {
            started.push(name);
            releases.set(name, resolve);
          }),
      ),
    );
  };
  /** Ends job `name` and lets the microtasks that hand its permit on run. */
  const finish = async (name: string) => {
    releases.get(name)!();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { started, submit, finish, done };
}

describe('PoolGate', () => {
  it('runs at once while permits are free, then queues', async () => {
    const gate = new PoolGate(2);
    const h = harness(gate);
    h.submit('a', 'pull');
    h.submit('b', 'pull');
    h.submit('c', 'pull');
    await Promise.resolve();
    expect(h.started).toEqual(['a', 'b']);
    expect(gate.waiting).toBe(1);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'b', 'c']);
    await h.finish('b');
    await h.finish('c');
    await Promise.all(h.done);
    expect(gate.waiting).toBe(0);
  });

  it('gives a freed connection to a waiting push before earlier pulls', async () => {
    const gate = new PoolGate(1);
    const h = harness(gate);
    h.submit('busy', 'pull');
    h.submit('pull1', 'pull');
    h.submit('pull2', 'pull');
    h.submit('push1', 'push');
    await h.finish('busy');
    expect(h.started).toEqual(['busy', 'push1']);
    await h.finish('push1');
    await h.finish('pull1');
    expect(h.started).toEqual(['busy', 'push1', 'pull1', 'pull2']);
    await h.finish('pull2');
    await Promise.all(h.done);
  });

  it('keeps one FIFO queue when not prioritizing', async () => {
    const gate = new PoolGate(1, false);
    const h = harness(gate);
    h.submit('busy', 'pull');
    h.submit('pull1', 'pull');
    h.submit('push1', 'push');
    await h.finish('busy');
    await h.finish('pull1');
    expect(h.started).toEqual(['busy', 'pull1', 'push1']);
    await h.finish('push1');
    await Promise.all(h.done);
  });

  it('lets a pull through after PUSH_BURST pushes in a row, so pushes alone cannot starve pulls', async () => {
    const gate = new PoolGate(1);
    const h = harness(gate);
    h.submit('busy', 'pull');
    h.submit('pull', 'pull');
    for (let i = 0; i < PUSH_BURST + 2; i++) h.submit(`push${i}`, 'push');
    await h.finish('busy');
    for (let i = 0; i < PUSH_BURST; i++) await h.finish(`push${i}`);
    expect(h.started.at(-1)).toBe('pull');
    expect(h.started.filter((s) => s.startsWith('push'))).toHaveLength(PUSH_BURST);
    await h.finish('pull');
    expect(h.started.at(-1)).toBe(`push${PUSH_BURST}`);
    await h.finish(`push${PUSH_BURST}`);
    await h.finish(`push${PUSH_BURST + 1}`);
    await Promise.all(h.done);
  });

  it('frees the permit when the job fails', async () => {
    const gate = new PoolGate(1);
    await expect(gate.run('push', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('pull', async () => 'ok')).resolves.toBe('ok');
    expect(gate.waiting).toBe(0);
  });

  it('does not let a newcomer jump the queue while a permit is handed on', async () => {
    const gate = new PoolGate(1);
    const h = harness(gate);
    h.submit('busy', 'pull');
    h.submit('queued', 'pull');
    h.finish('busy');
    // Submitted in the same tick as the release: it must wait behind the queued job.
    h.submit('late', 'pull');
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(h.started).toEqual(['busy', 'queued']);
    await h.finish('queued');
    expect(h.started).toEqual(['busy', 'queued', 'late']);
    await h.finish('late');
    await Promise.all(h.done);
  });
});

describe('PoolGate wait bound', () => {
  it('a request that waits longer than the pool would have fails as pg-pool did (503 upstream)', async () => {
    const gate = new PoolGate(1, true, 30);
    let release!: () => void;
    const busy = gate.run('pull', () => new Promise<void>((r) => (release = r)));
    const waited = gate.run('push', async () => 'never');
    const err = await waited.catch((e: unknown) => e);
    expect(String(err)).toMatch(/timeout exceeded when trying to connect/);
    expect(databaseUnavailable(err)).toBe(true);
    expect(gate.waiting).toBe(0);
    // The busy request still holds the only permit; once it ends, the next one runs at once.
    release();
    await busy;
    await expect(gate.run('pull', async () => 'ok')).resolves.toBe('ok');
  });
});
