/**
 * The phone's WatermelonDB schema, derived from protocol/tables.ts (the single source of columns and
 * types), for the device's schema version. Every column is optional: the contract allows null in any
 * column, and a non-optional WatermelonDB column would silently coerce null to '' or 0 (one of the
 * pitfalls the harness exists to catch). The worker runs WatermelonDB with NODE_ENV=production, where
 * the dev-only rule "updated_at must not be optional" is not enforced.
 */
import { appSchema, type TableSchema, tableSchema } from '@nozbe/watermelondb';
import { addColumns, type SchemaMigrations, schemaMigrations } from '@nozbe/watermelondb/Schema/migrations';
import { type SchemaVersion, TABLE_NAMES, TABLES, type TableName } from '../../protocol/tables';

export function tableSchemaFor(table: TableName, version: SchemaVersion): TableSchema {
  return tableSchema({
    name: table,
    columns: TABLES[table].columns
      .filter((c) => c.since <= version)
      .map((c) => ({ name: c.name, type: c.type, isOptional: true })),
  });
}

export function buildAppSchema(version: SchemaVersion) {
  return appSchema({ version, tables: TABLE_NAMES.map((t) => tableSchemaFor(t, version)) });
}

/**
 * One migration per schema version after 1, adding the columns introduced in it. A phone upgraded in
 * place (restart with a higher schemaVersion over the same dataDir) migrates its stored database.
 */
export function buildMigrations(version: SchemaVersion): SchemaMigrations {
  const migrations = [];
  for (let v = 2; v <= version; v++) {
    const steps = TABLE_NAMES.flatMap((t) => {
      const cols = TABLES[t].columns.filter((c) => c.since === v);
      return cols.length
        ? [addColumns({ table: t, columns: cols.map((c) => ({ name: c.name, type: c.type, isOptional: true })) })]
        : [];
    });
    migrations.push({ toVersion: v, steps });
  }
  return schemaMigrations({ migrations });
}
