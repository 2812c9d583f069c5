// make bench, part `memory`: the floor. A bare Express + mysql2 server doing v1's work for the bench's GET/PUT mix
// (one SELECT per GET, one UPDATE per PUT, on the old columns) with the apps' pool size and driver settings, and
// nothing else: no flags, registry, lease, metrics, logging, validation library or ORM. It imports one project
// module, the request constructors the instances' server uses (shared/server/express-requests.ts: without them
// Express alone peaks ~40 MB higher), so what it holds is what Node 20, Express and mysql2 hold under the same load
// at default V8 settings, set up as the instances set them up: the memory and CPU per request an instance cannot
// go below with this stack. The bench hands it the mapping's table,
// key, old columns and route (BARE_*), so it names none itself. Built into the compiled build
// (tsconfig.build.json) and run with plain node, like the instances it is compared with.
//   DATABASE_URL=mysql://… DB_POOL_MAX=20 BARE_TABLE=… BARE_KEY=… BARE_COLUMNS=a,b BARE_ROUTE=/… node dist/load/bench/bare-server.js
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { expressRequestClasses } from '../../shared/server/express-requests.ts';

function fail(line: string): never {
  console.error(`bare-server: ${line}`);
  process.exit(2);
}
const url = process.env.DATABASE_URL;
if (!url?.startsWith('mysql://')) fail('DATABASE_URL must be a mysql:// URL');
const identifier = (name: string, value: string | undefined): string => (value && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? value : fail(`${name} must be an SQL identifier`));
const table = identifier('BARE_TABLE', process.env.BARE_TABLE);
const key = identifier('BARE_KEY', process.env.BARE_KEY);
const columns = (process.env.BARE_COLUMNS ?? '').split(',').map((column) => identifier('BARE_COLUMNS', column));
const route = /^\/[a-z0-9_-]+$/.test(process.env.BARE_ROUTE ?? '') ? process.env.BARE_ROUTE! : fail('BARE_ROUTE must look like /things');

const pool = mysql.createPool({
  uri: url,
  connectionLimit: Number(process.env.DB_POOL_MAX ?? 20),
  // As shared/db/connection.ts sets them for the apps.
  flags: ['+FOUND_ROWS'],
  charset: 'utf8mb4',
  dateStrings: true,
  maxPreparedStatements: 128,
});
const select = `SELECT ${[key, ...columns].join(', ')} FROM ${table} WHERE ${key} = ?`;
const update = `UPDATE ${table} SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE ${key} = ?`;
const notFound = { error: { code: 'not_found', message: 'no such row', details: null } };

const app = express();
app.use(express.json({ limit: '16kb' }));
app.get(`${route}/:key`, async (req, res) => {
  const [rows] = await pool.execute<RowDataPacket[]>(select, [req.params.key]);
  if (rows.length === 0) return void res.status(404).json(notFound);
  res.json(rows[0]);
});
app.put(`${route}/:key`, async (req, res) => {
  const body = req.body as Record<string, unknown>;
  const values = columns.map((column) => body[column]);
  if (!values.every((value) => typeof value === 'string')) return void res.status(400).json({ error: { code: 'invalid_body', message: 'every field must be a string', details: null } });
  const [result] = await pool.execute<ResultSetHeader>(update, [...(values as string[]), req.params.key]);
  if (result.affectedRows === 0) return void res.status(404).json(notFound);
  res.json({ [key]: req.params.key, ...body });
});

const classes = expressRequestClasses();
classes.adopt(app);
const server = http.createServer(classes.serverOptions, app).listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`bare instance listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
