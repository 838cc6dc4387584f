/*
 * The part of better-sqlite3's API Pulse uses, typed (the package ships no types and
 * @types/better-sqlite3 is not a dependency). Owns these declarations only; extend it when a
 * repository needs more of the API.
 */
declare module 'better-sqlite3' {
  namespace BetterSqlite3 {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
      /** Rows as arrays of column values instead of objects. */
      raw(toggle?: boolean): this;
      /** Rows as their first column's value. */
      pluck(toggle?: boolean): this;
    }
    interface Database {
      readonly open: boolean;
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      /** `immediate`: BEGIN IMMEDIATE (the write lock first, waiting up to busy_timeout for it). */
      transaction<A extends unknown[], R>(
        fn: (...args: A) => R,
      ): ((...args: A) => R) & {
        deferred(...args: A): R;
        immediate(...args: A): R;
        exclusive(...args: A): R;
      };
      /** SQLite's defensive checks off (writable_schema allowed): specs making a faulty store. */
      unsafeMode(toggle?: boolean): this;
      close(): this;
    }
  }
  const BetterSqlite3: new (
    filename: string,
    options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number },
  ) => BetterSqlite3.Database;
  export = BetterSqlite3;
}
