/**
 * The connection pool. int8 (bigint) columns are parsed as JS numbers: stamps are milliseconds, far
 * below 2^53, and the protocol carries them as JSON numbers.
 */
import pg from 'pg';

const INT8_OID = 20;
/** node-postgres's conversion of a query value to its text form (not in @types/pg). */
const prepareValue = (pg as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils.prepareValue;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  },
};

export function createPool(databaseUrl: string, max = 20): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    types: types as unknown as pg.CustomTypesConfig,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart fault) must not crash the server.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `fn` in a transaction on one client; rolls back on any error. `begin` may be a function of
 * the client that returns the opening SQL (e.g. BEGIN and a first statement, one round trip); `fn`
 * gets that query's result.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  begin: string | ((client: pg.PoolClient) => string),
  fn: (client: pg.PoolClient, began: pg.QueryResult | pg.QueryResult[], tx: { committed: boolean }) => Promise<T>,
): Promise<T> {
  const client = await checkout(pool);
  let broken = false;
  try {
    const began = (await client.query(typeof begin === 'string' ? begin : begin(client))) as
      | pg.QueryResult
      | pg.QueryResult[];
    // `fn` sets committed when its last query ended with COMMIT (one round trip fewer).
    const tx = { committed: false };
    const out = await fn(client, began, tx);
    if (!tx.committed) await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    client.release(broken || client.lost !== undefined);
  }
}

/**
 * A named statement as SQL (`EXECUTE name(literal, ...)`), for a simple query that strings several
 * statements into one round trip, when this connection has already parsed it (node-postgres records
 * the statements it prepared; protocol-level and SQL prepared statements share one namespace, so
 * EXECUTE runs the same plan). Undefined when not yet prepared here: run it as a named query once.
 */
export function asExecute(client: pg.PoolClient, name: string, values: readonly unknown[]): string | undefined {
  const parsed = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection
    ?.parsedStatements;
  if (!parsed || parsed[name] === undefined) return undefined;
  const args = values.map((v) => {
    // The driver's own conversion (arrays to array literals, objects to JSON), then one literal each.
    const p = v === undefined || v === null ? null : prepareValue(v);
    return p === null || p === undefined ? 'NULL' : client.escapeLiteral(String(p));
  });
  return `EXECUTE ${name}(${args.join(', ')})`;
}

/**
 * pool.connect() with an 'error' listener for as long as the client is checked out. pg-pool listens
 * only to idle clients; a checked-out client whose backend is terminated between two queries (a fast
 * database shutdown sends FATAL 57P01 to every backend, idle-in-transaction ones too) emits 'error'
 * with nobody listening, which is an uncaught exception: the server process died on a database
 * restart and every device then saw "fetch failed". The next query on the client fails instead, the
 * request answers 503 and the device retries. Release with `client.lost !== undefined` destroys it.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient & { lost?: Error }> {
  const client = (await pool.connect()) as pg.PoolClient & { lost?: Error };
  const onError = (e: Error) => {
    client.lost = e;
  };
  client.on('error', onError);
  const release = client.release.bind(client);
  client.release = (destroy?: boolean | Error) => {
    client.removeListener('error', onError);
    return release(destroy);
  };
  return client;
}

/** Errors that mean "the database is not there right now" (down, restarting, starting up), not "misconfigured". */
export function databaseUnavailable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; syscall?: string };
  return (
    // Over a unix socket, a stopped database is a missing socket file: connect ENOENT.
    (err.code === 'ENOENT' && err.syscall === 'connect') ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03'].includes(err.code ?? '') ||
    /Connection terminated|timeout exceeded when trying to connect/.test(err.message ?? '')
  );
}

/**
 * Runs `fn` until the database answers, for at most `waitMs`: a server (re)started while its database
 * is down or in crash recovery comes up when the database does, as an orchestrator-restarted pod
 * would after a few crash loops, instead of exiting and leaving its port closed. Misconfiguration
 * (bad password, missing database) fails at once.
 */
export async function untilDatabaseAnswers<T>(
  fn: () => Promise<T>,
  waitMs: number,
  onRetry: (e: Error, attempt: number) => void,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!databaseUnavailable(e) || Date.now() >= deadline) throw e;
      onRetry(e as Error, attempt);
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
}
