/**
 * The connection pool. int8 (bigint) columns are parsed as JS numbers: stamps are milliseconds, far
 * below 2^53, and the protocol carries them as JSON numbers.
 */
import pg from 'pg';

const INT8_OID = 20;

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
  fn: (client: pg.PoolClient, began: pg.QueryResult | pg.QueryResult[]) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    const began = (await client.query(typeof begin === 'string' ? begin : begin(client))) as
      | pg.QueryResult
      | pg.QueryResult[];
    const out = await fn(client, began);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    client.release(broken);
  }
}
