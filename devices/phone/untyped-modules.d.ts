// Untyped CommonJS modules the phone reaches into: lokijs (its LokiFsAdapter) and WatermelonDB's
// Node SQLite bridge (to set WAL on the connection it opened).
declare module 'lokijs';
declare module '@nozbe/watermelondb/adapters/sqlite/sqlite-node/DatabaseBridge';
