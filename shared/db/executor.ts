// What every database connection offers the code above it (connection.ts: Sequelize or, for the instances' MySQL
// pools, mysql2 directly): plain, parameterized SQL with `$1`-style bind parameters.

export type Param = string | number | bigint | boolean | null;

export interface Executor {
  /** A SELECT: the rows, as plain objects. */
  select<Row extends object>(sql: string, params?: Param[]): Promise<Row[]>;
  /** An UPDATE or DELETE: how many rows matched (not only changed) the WHERE clause. */
  update(sql: string, params?: Param[]): Promise<number>;
  /** An INSERT into a table with an auto-increment key: the new id. */
  insert(sql: string, params?: Param[]): Promise<number>;
  /** DDL and session statements. */
  run(sql: string, params?: Param[]): Promise<void>;
}
