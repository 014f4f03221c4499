/**
 * The little a migration runner or a direct store needs from a database connection, so node-postgres and PGlite
 * (which speak the same SQL) are interchangeable.
 */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements (a migration file). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /** "postgres" or "pglite", for messages that should say which database they used. */
  readonly kind: 'postgres' | 'pglite';
}
